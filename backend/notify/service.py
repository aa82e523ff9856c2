"""The delivery thread: sends the outbox's due messages, with retries, at least once.

Rows come from the transaction that committed the phase they report
(store/queries/notifications.py), so nothing is sent for a phase that was
rolled back, and nothing committed is lost to a crash: a row claimed by a
process that died is due again once its claim runs out. Any number of backend
processes may run the thread; a claim is a compare-and-set, so one sends.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import NotifySettings
from ..store import queries as q
from ..store.queries import notifications as nq
from . import sinks
from .messages import render

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Database

log = logging.getLogger("plait.notify")

MAX_BACKOFF_S = 300.0


class DeliveryService:
    """Sends due notifications from `db`; `start()` runs it on a daemon thread,
    `deliver_due()` runs one pass on the caller's."""

    def __init__(self, db: Database, notify: NotifySettings | None = None, *, home: Path | None = None,
                 server_url: str | None = None) -> None:
        self.db = db
        self.notify = notify or NotifySettings()
        self.home = Path(home) if home is not None else None
        self.server_url = server_url
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Settings, db: Database, *, server_url: str | None = None) -> DeliveryService:
        """The service of a server: its sinks and home; links to `server_url` (default: the URL
        the running server recorded in `$PLAIT_HOME/server.json`)."""
        return cls(db, settings.notify, home=settings.home, server_url=server_url)

    def link_base(self) -> str | None:
        """The server URL that messages link to: the one given, else the running server's."""
        if self.server_url:
            return self.server_url
        if self.home is not None:
            from plait.model.home import read_endpoint

            found = read_endpoint(self.home)
            if found is not None:
                return found.url
        return None

    @property
    def claim_s(self) -> float:
        """How long a claimed row is left to its sender before another may take it."""
        return max(60.0, 4 * sinks.TIMEOUT_S)

    def start(self) -> DeliveryService:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="plait-notify", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Look for due messages now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                while self.deliver_due() and not self._stop.is_set():
                    pass
            except Exception:  # noqa: BLE001 - a database hiccup must not end the thread
                log.exception("sending notifications failed; trying again")
            self._wake.wait(self.notify.poll_s)
            self._wake.clear()

    def deliver_due(self, now: dt.datetime | None = None) -> int:
        """Claim and send the messages due now; returns how many were tried."""
        with self.db.session() as s:
            claimed = nq.claim_deliveries(s, claim_s=self.claim_s, now=now)
        for delivery in claimed:
            self._deliver(delivery)
        return len(claimed)

    def _deliver(self, delivery: q.notifications.DeliveryRecord) -> None:
        sink = sinks.sink_for(delivery, self.notify)
        try:
            message = render(delivery.event, delivery.message, self.notify, self.link_base())
            sinks.send(sink, delivery, message, self.notify, self.home)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
            error = str(exc) if isinstance(exc, sinks.SinkError) else f"{type(exc).__name__}: {exc}"
            retry_at = None
            if delivery.attempts < self.notify.max_attempts:
                wait = min(MAX_BACKOFF_S, self.notify.backoff_s * 2 ** (delivery.attempts - 1))
                retry_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=wait)
            log.warning("notification %s (%s) attempt %d failed%s: %s", delivery.id, sink,
                        delivery.attempts, "" if retry_at else ", giving up", error)
            with self.db.session() as s:
                nq.delivery_failed(s, delivery.id, sink, error, retry_at=retry_at)
            if retry_at is not None:
                self._wake.set()  # a short backoff should not wait for the poll
            return
        with self.db.session() as s:
            nq.delivery_sent(s, delivery.id, sink)
