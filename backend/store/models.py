"""The tables of docs/backend.md as SQLAlchemy 2.0 declarative models.

These classes never leave the store package: queries.py turns rows into the
frozen records of records.py. A change here needs an Alembic revision in
backend/migrations/versions (tests compare the two).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON documents; SQL NULL (not JSON null) for None. Plain JSON on PostgreSQL
# too: JSONB reorders object keys, and the order of a spec's inputs and outputs
# (and of an execution's values) is what the user declared. Nothing queries
# inside these documents, so JSONB's operators are not missed.
Json = JSON(none_as_null=True)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC times")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: Json}


class Project(Base):
    __tablename__ = "projects"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Bundle(Base):
    __tablename__ = "bundles"

    digest: Mapped[str] = mapped_column(String(128), primary_key=True)
    uri: Mapped[str] = mapped_column(Text)
    python_version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Entity(Base):
    __tablename__ = "entities"
    __table_args__ = (
        UniqueConstraint("kind", "project", "domain", "name", "version"),
        Index(None, "kind", "project", "domain", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    project: Mapped[str] = mapped_column(String(64), ForeignKey("projects.name"))
    domain: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(128))
    digest: Mapped[str] = mapped_column(String(128))
    spec: Mapped[dict[str, Any]]
    description: Mapped[str | None] = mapped_column(Text)
    bundle_digest: Mapped[str | None] = mapped_column(String(128))
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Execution(Base):
    __tablename__ = "executions"
    __table_args__ = (
        Index(None, "project", "domain", "created_at"),
        # The lab's "last runs" per entity and per launch plan.
        Index(None, "project", "domain", "entity_name", "created_at"),
        Index(None, "project", "domain", "launch_plan_name", "created_at"),
        Index(None, "phase"),
        Index(None, "parent_execution_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project: Mapped[str] = mapped_column(String(64), ForeignKey("projects.name"))
    domain: Mapped[str] = mapped_column(String(16))
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity_name: Mapped[str] = mapped_column(String(255))
    entity_version: Mapped[str] = mapped_column(String(128))
    launch_plan_name: Mapped[str | None] = mapped_column(String(255))
    launch_plan_version: Mapped[str | None] = mapped_column(String(128))
    phase: Mapped[str] = mapped_column(String(16))
    inputs: Mapped[dict[str, Any]]
    outputs: Mapped[dict[str, Any] | None]
    error: Mapped[dict[str, Any] | None]
    settings: Mapped[dict[str, Any]]
    parent_execution_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("executions.id", ondelete="SET NULL")
    )
    parent_node_path: Mapped[str | None] = mapped_column(String(512))
    abort_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]


class NodeExecution(Base):
    __tablename__ = "node_executions"
    __table_args__ = (
        UniqueConstraint("execution_id", "path"),
        # A task's runs inside workflows, newest first (`queries.recent_node_runs`).
        Index(None, "entity_name", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    execution_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("executions.id", ondelete="CASCADE")
    )
    path: Mapped[str] = mapped_column(String(512))
    parent_path: Mapped[str | None] = mapped_column(String(512))
    entity_name: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str | None] = mapped_column(String(32))
    phase: Mapped[str] = mapped_column(String(16))
    inputs: Mapped[dict[str, Any] | None]
    outputs: Mapped[dict[str, Any] | None]
    error: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    # A re-run's REUSED node: {"execution_id", "path"} of the node whose outputs it took.
    reused_from: Mapped[dict[str, Any] | None]


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("node_execution_id", "number"),
        # A node records at most one SUCCEEDED attempt, whoever writes it.
        Index(
            "ix_attempts_one_success",
            "node_execution_id",
            unique=True,
            sqlite_where=text("phase = 'SUCCEEDED'"),
            postgresql_where=text("phase = 'SUCCEEDED'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node_execution_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("node_executions.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(16))
    error_kind: Mapped[str | None] = mapped_column(String(8))
    error: Mapped[dict[str, Any] | None]
    worker: Mapped[str | None] = mapped_column(String(255))
    pool: Mapped[str | None] = mapped_column(String(64))  # the worker pool it was routed to
    logs_uri: Mapped[str | None] = mapped_column(Text)
    outputs: Mapped[dict[str, Any] | None]
    cpu_peak: Mapped[float | None] = mapped_column(Float)
    cpu_avg: Mapped[float | None] = mapped_column(Float)
    mem_peak: Mapped[float | None] = mapped_column(Float)
    mem_avg: Mapped[float | None] = mapped_column(Float)
    gpu_util_avg: Mapped[float | None] = mapped_column(Float)  # percent, of the devices it saw
    gpu_util_peak: Mapped[float | None] = mapped_column(Float)
    gpu_mem_avg: Mapped[float | None] = mapped_column(Float)  # bytes
    gpu_mem_peak: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]


class CacheEntry(Base):
    __tablename__ = "cache_entries"

    project: Mapped[str] = mapped_column(String(64), primary_key=True)
    domain: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    outputs: Mapped[dict[str, Any]]
    execution_id: Mapped[str | None] = mapped_column(String(64))
    node_path: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CacheReservation(Base):
    __tablename__ = "cache_reservations"

    project: Mapped[str] = mapped_column(String(64), primary_key=True)
    domain: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[dt.datetime]


class Secret(Base):
    """A secret of a project: for one domain, or for every domain (`domain` empty). `value` is
    the Fernet token of the value (plait.backend.secrets), never the value itself."""

    __tablename__ = "secrets"
    __table_args__ = (UniqueConstraint("project", "domain", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(64), ForeignKey("projects.name"))
    domain: Mapped[str] = mapped_column(String(16))  # "" for every domain of the project
    name: Mapped[str] = mapped_column(String(255))
    encrypted_value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LaunchPlanState(Base):
    """Which version of a launch plan is active (at most one per project/domain/name), and the
    scheduler's bookkeeping: the catch-up policy after downtime and the newest tick handled."""

    __tablename__ = "launch_plan_states"
    __table_args__ = (Index(None, "active_version"),)

    project: Mapped[str] = mapped_column(String(64), ForeignKey("projects.name"), primary_key=True)
    domain: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    active_version: Mapped[str | None] = mapped_column(String(128))  # None: no version is active
    activated_at: Mapped[dt.datetime | None]
    catch_up: Mapped[str | None] = mapped_column(String(8))  # None: the schedule's, else skip
    last_tick: Mapped[dt.datetime | None]  # ticks after it are due
    # An artifact trigger's cursor: versions with a larger id are new to it (set on activation).
    trigger_after: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ScheduleRun(Base):
    """One handled tick of a scheduled launch plan: launched, skipped, failed or missed. The
    unique key (no version in it) is what keeps a tick from firing twice, whoever fires it."""

    __tablename__ = "schedule_runs"
    __table_args__ = (UniqueConstraint("project", "domain", "name", "tick"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(64), ForeignKey("projects.name"))
    domain: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(128))
    tick: Mapped[dt.datetime]
    outcome: Mapped[str] = mapped_column(String(16))  # launched | skipped | failed | missed
    execution_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NotificationDelivery(Base):
    """A notification to send, and the record of sending it (migration 0006).

    Written in the transaction that commits the phase it reports, so the
    message exists exactly when the phase does; the backend's delivery thread
    sends it afterwards. `message` holds the facts (execution, phase, times,
    error), rendered into text when sent. `sink` is the channel until a send
    picks the configured sink (`log` when the channel has none)."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index(None, "status", "next_attempt_at"), Index(None, "execution_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    execution_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("executions.id", ondelete="CASCADE")
    )
    project: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(16))
    launch_plan_name: Mapped[str | None] = mapped_column(String(255))
    event: Mapped[str] = mapped_column(String(32))  # execution_ended | schedule_skipped
    phase: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))  # email | slack | pager_duty
    sink: Mapped[str] = mapped_column(String(16))  # email | slack | pagerduty | log
    recipients: Mapped[list[str]] = mapped_column(Json)
    message: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))  # PENDING | SENT | FAILED
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]


class ArtifactVersion(Base):
    """One version of an artifact (migration 0009): written with its producing node's success,
    or through the API. `id` orders versions: the newest matching version has the largest id."""

    __tablename__ = "artifacts"
    __table_args__ = (
        UniqueConstraint("project", "domain", "name", "version"),
        # One version per output of a successful node, whoever records it.
        UniqueConstraint("execution_id", "node_path", "output"),
        Index(None, "project", "domain", "name", "id"),
        Index(None, "execution_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(64))
    partitions: Mapped[dict[str, Any]]
    time_partition: Mapped[str | None] = mapped_column(String(32))  # ISO, cut to the granularity
    granularity: Mapped[str | None] = mapped_column(String(8))
    type: Mapped[dict[str, Any]]
    value: Mapped[dict[str, Any]]  # the value ref
    cards: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    execution_id: Mapped[str | None] = mapped_column(String(64))
    node_path: Mapped[str | None] = mapped_column(String(512))
    task_name: Mapped[str | None] = mapped_column(String(255))
    task_version: Mapped[str | None] = mapped_column(String(128))
    output: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ArtifactPartition(Base):
    """A partition value of a version, the time partition under `time_partition`: what makes
    "the latest version with these partitions" one index walk from the newest id down."""

    __tablename__ = "artifact_partitions"
    __table_args__ = (Index("ix_artifact_partitions_lookup", "project", "domain", "name", "key", "value", "artifact_id"),)

    artifact_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("artifacts.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    project: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))


class ArtifactUse(Base):
    """An execution's use of a version: an input resolved from a query (`query`), the version
    that launched it (`trigger`), or a cached node standing for the node that made it
    (`cache_hit`). With the producer columns of `artifacts`, the lineage."""

    __tablename__ = "artifact_uses"
    __table_args__ = (
        UniqueConstraint("artifact_id", "execution_id", "node_path", "port"),
        Index(None, "execution_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    artifact_id: Mapped[int] = mapped_column(Integer, ForeignKey("artifacts.id", ondelete="CASCADE"))
    execution_id: Mapped[str] = mapped_column(String(64), ForeignKey("executions.id", ondelete="CASCADE"))
    node_path: Mapped[str] = mapped_column(String(512), default="")  # "" for the execution itself
    port: Mapped[str] = mapped_column(String(255), default="")  # the input (or output) it fed
    how: Mapped[str] = mapped_column(String(16))  # query | trigger | cache_hit
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ArtifactTriggerRun(Base):
    """A version handled by an active launch plan's artifact trigger: launched, skipped or
    failed. The unique key keeps a version from launching the plan twice, across restarts."""

    __tablename__ = "artifact_trigger_runs"
    __table_args__ = (UniqueConstraint("project", "domain", "name", "artifact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))  # the launch plan
    version: Mapped[str] = mapped_column(String(128))
    artifact_id: Mapped[int] = mapped_column(Integer, ForeignKey("artifacts.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(16))  # launched | skipped | failed
    execution_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Signal(Base):
    """A gate's signal (migration 0010): opened by the executor when a `wait_for_input` or
    `approve` node starts waiting (`value` null), set once through the API, read by the
    executor to let the node go. `timeout_at` is when the node fails without a value."""

    __tablename__ = "signals"
    __table_args__ = (UniqueConstraint("execution_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    execution_id: Mapped[str] = mapped_column(String(64), ForeignKey("executions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    node_path: Mapped[str] = mapped_column(String(512))
    gate: Mapped[str] = mapped_column(String(16))  # signal | approve
    type: Mapped[dict[str, Any]]
    value: Mapped[dict[str, Any] | None]  # {"literal": ...} once set
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    timeout_at: Mapped[dt.datetime | None]
    set_at: Mapped[dt.datetime | None]


class Workspace(Base):
    """A browser workspace (migration 0011): its spec (plait.config.workspaces), what users
    asked for (`desired`) and what the workspace manager reached (`phase`), with the pid and
    loopback port of its code-server while it runs. `spec_started` is the spec it was
    started with (an update applies at the next start)."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("project", "domain", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict[str, Any]]
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    desired: Mapped[str] = mapped_column(String(16))
    phase: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)
    port: Mapped[int | None] = mapped_column(Integer)
    pool: Mapped[str | None] = mapped_column(String(255))
    origin: Mapped[dict[str, Any] | None]
    spec_started: Mapped[dict[str, Any] | None]
    last_activity: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]
    stopped_at: Mapped[dt.datetime | None]
    saved_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class App(Base):
    """A served app (migration 0012): its spec (plait.app), bundle and revision, what users asked
    for (`desired` ACTIVE or STOPPED) and the status the app manager reached. `wanted_at` is set
    by a proxy that found no ready replica (a cold start); `last_request` and `load` (requests in
    flight, the highest of the last interval) drive scaling."""

    __tablename__ = "apps"
    __table_args__ = (UniqueConstraint("project", "domain", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    spec: Mapped[dict[str, Any]]
    bundle: Mapped[str | None] = mapped_column(String(128))
    digest: Mapped[str] = mapped_column(String(128))
    revision: Mapped[int] = mapped_column(Integer)
    desired: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    inputs: Mapped[dict[str, Any] | None]
    wanted_at: Mapped[dt.datetime | None]
    last_request: Mapped[dt.datetime | None]
    load: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AppReplica(Base):
    """One process serving an app's revision on a loopback port (migration 0012)."""

    __tablename__ = "app_replicas"
    __table_args__ = (UniqueConstraint("app_id", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app_id: Mapped[int] = mapped_column(Integer, ForeignKey("apps.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(16))  # STARTING | READY | BACKOFF | STOPPED
    pid: Mapped[int | None] = mapped_column(Integer)
    port: Mapped[int | None] = mapped_column(Integer)
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    last_exit: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime | None]
    ready_at: Mapped[dt.datetime | None]


class AppEvent(Base):
    """Something that happened to an app, in words (migration 0012)."""

    __tablename__ = "app_events"
    __table_args__ = (Index(None, "app_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app_id: Mapped[int] = mapped_column(Integer, ForeignKey("apps.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    message: Mapped[str] = mapped_column(Text)
