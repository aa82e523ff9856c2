"""The store on real SQLite and PostgreSQL: every test runs on both (see conftest.py)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from plait.backend.store import Conflict, Database, InvalidRequest, NotFound
from plait.backend.store import queries as q
from plait.backend.store.db import alembic_config
from plait.backend.store.models import Base
from plait.backend.store.records import Usage
from sqlalchemy import event, inspect

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.timezone.utc)


def later(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def register(s, name="train", version="v1", digest="d1", kind="task", **kw):
    return q.register_entity(
        s,
        kind=kind,
        project=kw.pop("project", "default"),
        domain=kw.pop("domain", "development"),
        name=name,
        version=version,
        digest=digest,
        spec={"name": name, "version": version},
        **kw,
    )


def launch(s, name="train", **kw):
    kw.setdefault("project", "default")
    kw.setdefault("domain", "development")
    kw.setdefault("inputs", {})
    return q.create_execution(
        s, entity_kind="workflow", entity_name=name, entity_version="v1", **kw
    )


# --- migrations ------------------------------------------------------------------------


def test_migrations_create_the_models_schema_and_running_them_again_changes_nothing(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        assert db.revision() is None
        db.migrate()
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert db.revision() == head == "0012"
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with db.engine.connect() as connection:
            diff = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}),
                Base.metadata,
            )
        assert diff == [], "models.py and the migrations disagree; add a revision"

        db.migrate()
        assert db.revision() == head
        assert set(inspect(db.engine).get_table_names()) == tables
        with db.session() as s:
            assert [p.name for p in q.list_projects(s)] == ["default"]
    finally:
        db.dispose()


def test_sqlite_runs_in_wal_mode_and_readers_do_not_wait_for_writers(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path}/nested/plait.db")
    try:
        db.migrate()
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
        with db.session() as writer:
            q.ensure_project(writer, "busy")  # holds SQLite's write lock until the block ends
            with db.session(readonly=True) as reader:
                assert [p.name for p in q.list_projects(reader)] == ["default"]
        with db.session(readonly=True) as reader:
            assert [p.name for p in q.list_projects(reader)] == ["busy", "default"]
    finally:
        db.dispose()


def test_a_failed_block_rolls_back(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        q.ensure_project(s, "ghost")
        raise RuntimeError("boom")
    with db.session(readonly=True) as s:
        assert [p.name for p in q.list_projects(s)] == ["default"]


# --- projects and domains ------------------------------------------------------------------


def test_projects_are_created_once_and_names_are_checked(db: Database) -> None:
    with db.session() as s:
        first = q.ensure_project(s, "flytesnacks", "examples")
        again = q.ensure_project(s, "flytesnacks", "other words")
        assert again == first
        assert [p.name for p in q.list_projects(s)] == ["default", "flytesnacks"]
        with pytest.raises(InvalidRequest, match="project name 'Bad Name' is not valid"):
            q.ensure_project(s, "Bad Name")
        with pytest.raises(NotFound, match="project `nowhere` does not exist"):
            q.get_project(s, "nowhere")


def test_domains_are_the_fixed_three(db: Database) -> None:
    with db.session() as s:
        with pytest.raises(
            InvalidRequest,
            match="unknown domain 'prod'; plait has the domains development, staging, production",
        ):
            register(s, domain="prod")
        with pytest.raises(NotFound, match="project `nowhere` does not exist"):
            register(s, project="nowhere")


# --- entities ------------------------------------------------------------------------------


def test_registering_the_same_content_twice_is_a_no_op(db: Database) -> None:
    with db.session() as s:
        first, created = register(s)
        assert created
    with db.session() as s:
        again, created = register(s)
        assert not created
        assert again == first


def test_a_used_version_with_other_content_is_a_conflict(db: Database) -> None:
    with db.session() as s:
        register(s, digest="aaaa")
    with (
        db.session() as s,
        pytest.raises(
            Conflict,
            match=r"task `train` version `v1` is already registered in default/development",
        ) as caught,
    ):
        register(s, digest="bbbb")
    assert caught.value.kind == "task" and caught.value.name == "train"
    with db.session() as s:  # the same version in another domain is another entity
        assert register(s, digest="bbbb", domain="staging")[1]


def test_registration_needs_an_uploaded_bundle(db: Database) -> None:
    with db.session() as s:
        with pytest.raises(NotFound, match="code bundle `abc` was not uploaded"):
            register(s, bundle_digest="abc")
        bundle = q.put_bundle(s, "abc", "bundles/abc.tar.gz", "3.11")
        assert q.put_bundle(s, "abc", "elsewhere", "3.12") == bundle
        entity, _ = register(s, bundle_digest="abc")
        assert entity.bundle_digest == "abc"
        assert q.get_bundle(s, "abc").python_version == "3.11"


def test_listing_shows_the_latest_version_of_each_name(db: Database) -> None:
    with db.session() as s:
        register(s, "train", "v1", "d1")
        register(s, "train", "v2", "d2")
        register(s, "train", "v0", "d0")  # registered last: the latest, whatever its name
        register(s, "prep_data", "v1", "p1")
        register(s, "prep-data", "v1", "p2")
        register(s, "train", "v1", "w1", kind="workflow")
    with db.session() as s:
        listing = q.list_entities(s, "task", "default", "development")
        assert [(e.latest.name, e.latest.version, e.version_count) for e in listing] == [
            ("prep-data", "v1", 1),
            ("prep_data", "v1", 1),
            ("train", "v0", 3),
        ]
        # `_` is a literal underscore, not a LIKE wildcard; matching ignores case
        named = q.list_entities(s, "task", "default", "development", name_contains="P_D")
        assert [e.latest.name for e in named] == ["prep_data"]
        page = q.list_entities(s, "task", "default", "development", limit=1, offset=1)
        assert [e.latest.name for e in page] == ["prep_data"]
        assert q.get_entity(s, "task", "default", "development", "train").version == "v0"
        assert q.get_entity(s, "task", "default", "development", "train", "v2").digest == "d2"
        versions = q.list_versions(s, "task", "default", "development", "train")
        assert [v.version for v in versions] == ["v0", "v2", "v1"]
        with pytest.raises(NotFound, match="task `train` version `v9` is not registered"):
            q.get_entity(s, "task", "default", "development", "train", "v9")
        with pytest.raises(NotFound, match="launch plan `nope` is not registered"):
            q.list_versions(s, "launch_plan", "default", "development", "nope")
        with pytest.raises(InvalidRequest, match="unknown entity kind 'tasks'"):
            q.list_entities(s, "tasks", "default", "development")


def test_archived_entities_leave_the_default_listing(db: Database) -> None:
    with db.session() as s:
        register(s, "old", "v1", "o1")
        register(s, "old", "v2", "o2")
        register(s, "new", "v1", "n1")
        archived = q.set_archived(s, "task", "default", "development", "old", True)
        assert archived.archived and archived.version == "v2"
    with db.session() as s:
        names = lambda **kw: [  # noqa: E731
            e.latest.name for e in q.list_entities(s, "task", "default", "development", **kw)
        ]
        assert names() == ["new"]
        assert names(archived=True) == ["old"]
        assert names(archived=None) == ["new", "old"]
        assert all(v.archived for v in q.list_versions(s, "task", "default", "development", "old"))
        q.set_archived(s, "task", "default", "development", "old", False)
        assert names() == ["new", "old"]
        with pytest.raises(NotFound, match="task `ghost` is not registered"):
            q.set_archived(s, "task", "default", "development", "ghost", True)


# --- executions --------------------------------------------------------------------------


def test_an_execution_runs_from_queued_to_succeeded(db: Database) -> None:
    with db.session() as s:
        created = launch(s, id="nightly-1", inputs={"x": {"literal": 1}}, settings={"envs": {}})
        assert created.phase == "QUEUED" and created.started_at is None
        assert created.inputs == {"x": {"literal": 1}} and created.settings == {"envs": {}}
    with db.session() as s:
        (claimed,) = q.claim_executions(s, "executor-a", 30)
        running = q.set_execution_phase(s, "nightly-1", "RUNNING", owner="executor-a")
        assert running.started_at is not None and running.ended_at is None
        with pytest.raises(Conflict, match="leased by executor-a, not executor-b"):
            q.set_execution_phase(s, "nightly-1", "FAILED", owner="executor-b")
        done = q.set_execution_phase(
            s, "nightly-1", "SUCCEEDED", outputs={"o0": {"literal": 2}}, owner="executor-a"
        )
    assert done.ended_at >= done.started_at >= done.created_at
    assert done.outputs == {"o0": {"literal": 2}}
    assert done.lease_owner is None and done.done
    with db.session() as s:
        assert q.set_execution_phase(s, "nightly-1", "SUCCEEDED") == done
        with pytest.raises(Conflict, match="already ended as SUCCEEDED; it cannot become FAILED"):
            q.set_execution_phase(s, "nightly-1", "FAILED")
        with pytest.raises(Conflict, match="nothing to abort"):
            q.request_abort(s, "nightly-1")
        with pytest.raises(Conflict, match="an execution named `nightly-1` already exists"):
            launch(s, id="nightly-1")
        with pytest.raises(NotFound, match="execution `nope` does not exist"):
            q.get_execution(s, "nope")
        with pytest.raises(InvalidRequest, match="execution name 'Bad_Name' is not valid"):
            launch(s, id="Bad_Name")


def test_abort_is_requested_on_the_record(db: Database) -> None:
    with db.session() as s:
        execution = launch(s)
        assert not execution.abort_requested
        assert q.request_abort(s, execution.id, reason="  wrong data  ").abort_requested
        assert q.get_execution(s, execution.id).abort_requested
        q.request_abort(s, execution.id, reason="a second click")  # the first reason stays
        assert q.get_execution(s, execution.id).settings["abort_reason"] == "wrong data"
        assert q.set_execution_phase(s, execution.id, "ABORTED").started_at is None


def test_executions_list_newest_first_with_allowed_filters(db: Database) -> None:
    with db.session() as s:
        q.ensure_project(s, "other")
        launch(s, "a", id="e1", now=later(1))
        launch(s, "b", id="e2", now=later(2))
        launch(s, "a", id="e3", now=later(3), domain="staging")
        launch(s, "a", id="e4", now=later(3))  # same time as e3: ordered by id
        launch(s, "a", id="e5", now=later(4), project="other")
        q.set_execution_phase(s, "e2", "FAILED")
    with db.session(readonly=True) as s:
        ids = lambda **kw: [e.id for e in q.list_executions(s, **kw)]  # noqa: E731
        assert ids() == ["e5", "e4", "e3", "e2", "e1"]
        assert ids(project="default", domain="development") == ["e4", "e2", "e1"]
        assert ids(name="a", project="default") == ["e4", "e3", "e1"]
        assert ids(phase="FAILED") == ["e2"]
        assert ids(phase=["QUEUED", "FAILED"], project=None, limit=2) == ["e5", "e4"]
        assert ids(limit=2, offset=3) == ["e2", "e1"]
        with pytest.raises(InvalidRequest, match="unknown execution filter"):
            q.list_executions(s, lease_owner="me")
        with pytest.raises(InvalidRequest, match="unknown execution phase 'DONE'"):
            q.list_executions(s, phase="DONE")
        with pytest.raises(InvalidRequest, match="limit must be between 1 and 1000"):
            q.list_executions(s, limit=0)


def test_execution_lists_read_only_the_header_columns(db: Database) -> None:
    """A page that lists an execution with a large input must not read (and decode) it."""
    with db.session() as s:
        launch(s, id="big", inputs={"x": {"literal": list(range(1000))}}, settings={"envs": {"A": "1"}})
        q.set_execution_phase(s, "big", "FAILED", outputs={"o0": {"literal": 1}}, error={"message": "boom"})
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.session(readonly=True) as s:
            [header] = q.list_executions(s)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    [select] = [t for t in statements if "FROM executions" in t]
    for column in ("inputs", "outputs", "settings", "lease_owner"):
        assert f"executions.{column}" not in select, select
    assert (header.id, header.phase, header.error) == ("big", "FAILED", {"message": "boom"})
    assert not hasattr(header, "inputs") and not hasattr(header, "settings")


def test_child_executions_point_to_their_parent(db: Database) -> None:
    with db.session() as s:
        parent = launch(s)
        child = launch(s, parent_execution_id=parent.id, parent_node_path="n1")
        assert [e.id for e in q.list_executions(s, parent_execution_id=parent.id)] == [child.id]
        with pytest.raises(NotFound, match="execution `nope` does not exist"):
            launch(s, parent_execution_id="nope")


# --- leases --------------------------------------------------------------------------


def test_two_executors_claiming_at_once_never_share_an_execution(db: Database) -> None:
    with db.session() as s:
        expected = {launch(s, id=f"run-{i}").id for i in range(24)}
    claims: dict[str, list[str]] = {"a": [], "b": []}
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def executor(owner: str) -> None:
        try:
            start.wait()
            while True:
                with db.session() as s:
                    got = q.claim_executions(s, owner, 60, limit=3)
                if not got:
                    return
                claims[owner].extend(e.id for e in got)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=executor, args=(o,)) for o in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    everything = claims["a"] + claims["b"]
    assert sorted(everything) == sorted(expected)  # each one exactly once
    with db.session() as s:
        for owner, ids in claims.items():
            assert all(q.get_execution(s, i).lease_owner == owner for i in ids)


def test_an_expired_lease_is_taken_over(db: Database) -> None:
    with db.session() as s:
        execution = launch(s)
        assert [e.id for e in q.claim_executions(s, "a", 30, now=T0)] == [execution.id]
        q.set_execution_phase(s, execution.id, "RUNNING", owner="a")
    with db.session() as s:
        assert q.claim_executions(s, "b", 30, now=later(10)) == []
        assert q.renew_lease(s, "a", [execution.id], 30, now=later(20)) == [execution.id]
        assert q.claim_executions(s, "b", 30, now=later(45)) == []  # held until 50 s
        (taken,) = q.claim_executions(s, "b", 30, now=later(51))
        assert taken.lease_owner == "b" and taken.phase == "RUNNING"
        assert taken.lease_expires_at == later(81)
        assert q.renew_lease(s, "a", [execution.id], 30, now=later(52)) == []  # lost it
        assert q.renew_lease(s, "b", execution.id, 30, now=later(52)) == [execution.id]
        assert q.release_lease(s, "a", [execution.id]) == []
        assert q.release_lease(s, "b", [execution.id, "other"]) == [execution.id]
        assert q.get_execution(s, execution.id).lease_owner is None
        assert [e.id for e in q.claim_executions(s, "c", 30, now=later(53))] == [execution.id]
        q.set_execution_phase(s, execution.id, "FAILED")
        assert q.claim_executions(s, "d", 30, now=later(9999)) == []  # ended: never claimed
        assert q.renew_lease(s, "c", [execution.id], 30) == []
        assert q.renew_lease(s, "c", [], 30) == q.release_lease(s, "c", []) == []


# --- nodes and attempts ---------------------------------------------------------------------


def test_nodes_are_created_then_updated(db: Database) -> None:
    with db.session() as s:
        execution = launch(s)
        node = q.upsert_node(s, execution.id, "n0", entity_name="prep", kind="task")
        assert node.phase == "QUEUED" and node.started_at is None
        q.upsert_node(s, execution.id, "n1", parent_path=None, kind="map")
        q.upsert_node(s, execution.id, "n1-0", parent_path="n1", inputs={"x": {"literal": 0}})
        running = q.upsert_node(s, execution.id, "n0", phase="RUNNING", now=later(1))
        done = q.upsert_node(
            s, execution.id, "n0", phase="SUCCEEDED", outputs={"o0": {"literal": 1}}, now=later(2)
        )
    assert running.started_at == later(1)
    assert (done.started_at, done.ended_at, done.entity_name) == (later(1), later(2), "prep")
    with db.session() as s:
        assert [n.path for n in q.list_nodes(s, execution.id)] == ["n0", "n1", "n1-0"]
        assert q.get_node(s, execution.id, "n1-0").parent_path == "n1"
        assert q.upsert_node(s, execution.id, "n0", phase="SUCCEEDED").ended_at == later(2)
        with pytest.raises(
            Conflict, match="node `n0` of execution `.*` already ended as SUCCEEDED"
        ):
            q.upsert_node(s, execution.id, "n0", phase="RUNNING")
        with pytest.raises(NotFound, match="has no node `n9`"):
            q.get_node(s, execution.id, "n9")
        with pytest.raises(NotFound, match="execution `nope` does not exist"):
            q.upsert_node(s, "nope", "n0")


def test_attempts_are_numbered_and_carry_usage(db: Database) -> None:
    with db.session() as s:
        execution = launch(s)
        q.upsert_node(s, execution.id, "n0")
        first = q.start_attempt(s, execution.id, "n0", worker="tcp://w1", logs_uri="logs/1")
        failed = q.finish_attempt(
            s, first.id, "FAILED", error_kind="SYSTEM", error={"message": "worker lost"}
        )
        second = q.start_attempt(s, execution.id, "n0")
        usage = Usage(cpu_peak=1.5, cpu_avg=0.75, mem_peak=2e9, mem_avg=1e9)
        ok = q.finish_attempt(
            s,
            second.id,
            "SUCCEEDED",
            outputs={"o0": {"literal": 3}},
            worker="tcp://w2",
            logs_uri="logs/2",
            cpu_peak=1.5,
            cpu_avg=0.75,
            mem_peak=2e9,
            mem_avg=1e9,
        )
    assert (first.number, second.number) == (1, 2)
    assert failed.error_kind == "SYSTEM" and failed.ended_at is not None
    assert ok.usage == usage and ok.outputs == {"o0": {"literal": 3}}
    assert (failed.worker, failed.logs_uri) == ("tcp://w1", "logs/1")  # kept from the start
    assert (ok.worker, ok.logs_uri) == ("tcp://w2", "logs/2")
    with db.session() as s:
        assert [(a.node_path, a.number, a.phase) for a in q.list_attempts(s, execution.id)] == [
            ("n0", 1, "FAILED"),
            ("n0", 2, "SUCCEEDED"),
        ]
        with pytest.raises(Conflict, match="attempt 1 of node `n0` .* already ended as FAILED"):
            q.finish_attempt(s, first.id, "SUCCEEDED")
        with pytest.raises(Conflict, match="node `n0` of execution .* already succeeded"):
            q.start_attempt(s, execution.id, "n0")
        with pytest.raises(InvalidRequest, match="unknown error kind 'OOPS'"):
            q.finish_attempt(s, first.id, "FAILED", error_kind="OOPS")


def test_a_node_never_records_two_succeeded_attempts(db: Database) -> None:
    with db.session() as s:
        execution = launch(s)
        q.upsert_node(s, execution.id, "n0")
        one = q.start_attempt(s, execution.id, "n0")
        two = q.start_attempt(s, execution.id, "n0")  # e.g. a worker thought lost came back
        with pytest.raises(Conflict, match="attempt 2 of node `n0` .* already exists"):
            q.start_attempt(s, execution.id, "n0", 2)
        q.finish_attempt(s, one.id, "SUCCEEDED")
    with (
        db.session() as s,
        pytest.raises(
            Conflict, match="node `n0` of execution .* already has a SUCCEEDED attempt; attempt 2"
        ),
    ):
        q.finish_attempt(s, two.id, "SUCCEEDED")
    with db.session() as s:
        assert q.finish_attempt(s, two.id, "ABORTED").phase == "ABORTED"
        assert [a.phase for a in q.list_attempts(s, execution.id, "n0")] == [
            "SUCCEEDED",
            "ABORTED",
        ]


def test_two_writers_racing_to_succeed_one_node_leave_one_success(db: Database) -> None:
    with db.session() as s:
        execution = launch(s)
        q.upsert_node(s, execution.id, "n0")
        one = q.start_attempt(s, execution.id, "n0")
        two = q.start_attempt(s, execution.id, "n0")
    outcome: list[object] = []

    def second_writer() -> None:
        try:
            with db.session() as s:
                outcome.append(q.finish_attempt(s, two.id, "SUCCEEDED"))
        except Exception as error:  # noqa: BLE001 - reported below
            outcome.append(error)

    with db.session() as s:
        q.finish_attempt(s, one.id, "SUCCEEDED")
        racer = threading.Thread(target=second_writer)
        racer.start()
        time.sleep(0.3)  # the second writer now waits for this transaction's lock
    racer.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
    with db.session() as s:
        phases = [a.phase for a in q.list_attempts(s, execution.id, "n0")]
    assert phases == ["SUCCEEDED", "RUNNING"]


# --- cache --------------------------------------------------------------------------------


def test_cache_entries_keep_the_first_outputs(db: Database) -> None:
    with db.session() as s:
        assert q.cache_get(s, "default", "development", "k1") is None
        first = q.cache_put(
            s, "default", "development", "k1", {"o0": {"literal": 1}}, node_path="n0"
        )
        again = q.cache_put(s, "default", "development", "k1", {"o0": {"literal": 2}})
        assert again == first and again.outputs == {"o0": {"literal": 1}}
        new = q.cache_put(s, "default", "development", "k1", {"o0": {"literal": 3}}, overwrite=True)
        assert new.outputs == {"o0": {"literal": 3}} and new.node_path is None
        assert q.cache_get(s, "default", "staging", "k1") is None


def test_cache_reservations_are_taken_over_when_they_expire(db: Database) -> None:
    key = ("default", "development", "k1")
    with db.session() as s:
        assert q.cache_reserve(s, *key, "a", 10, now=T0)
        assert not q.cache_reserve(s, *key, "b", 10, now=later(5))
        assert q.cache_reserve(s, *key, "a", 10, now=later(5))  # the holder extends
        assert q.cache_extend(s, *key, "a", 10, now=later(12))  # held until 22 s
        assert not q.cache_extend(s, *key, "b", 10, now=later(12))
        assert not q.cache_reserve(s, *key, "b", 10, now=later(21))
        assert q.cache_reserve(s, *key, "b", 10, now=later(23))  # expired: b takes it
        assert not q.cache_extend(s, *key, "a", 10, now=later(24))
        assert not q.cache_release(s, *key, "a")
        assert q.cache_release(s, *key, "b")
        assert q.cache_reserve(s, *key, "c", 10, now=later(25))


def test_the_executions_search_matches_parts_of_ids_and_names_in_any_case(db: Database) -> None:
    with db.session() as s:
        q.ensure_project(s, "default")
        for eid, name, plan in [("abc123", "flows.predict", None), ("xyz789", "flows.train", "nightly_predict"),
                                ("def456", "flows.train", None), ("rep1", "flows.report_1", None)]:
            q.create_execution(s, id=eid, project="default", domain="development", entity_kind="workflow",
                               entity_name=name, entity_version="v1", launch_plan_name=plan, inputs={})
    with db.session(readonly=True) as s:
        def found(search: str, **filters: object) -> list[str]:
            return sorted(e.id for e in q.list_executions(s, search=search, **filters))

        assert found("predict") == ["abc123", "xyz789"]  # a workflow's name, a launch plan's
        assert found("PREDICT") == ["abc123", "xyz789"]
        assert found("z78") == ["xyz789"]  # part of an id
        assert found("train", name="flows.train") == ["def456", "xyz789"]
        assert found("%") == [] and found("t_1") == ["rep1"]  # LIKE's wildcards are plain characters
