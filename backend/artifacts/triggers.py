"""Reactive launch plans: an active plan with an `OnArtifact` trigger runs once per new version.

The scheduler's thread calls `ArtifactTriggers.turn` with the active plans on
each of its turns. For a plan whose active version has a trigger, the versions
of the trigger's artifact newer than the plan's cursor (`trigger_after`, set
when the plan was activated) are handled oldest first, each in one
transaction: its `artifact_trigger_runs` row (unique per plan and version: a
version another turn, or this one before a restart, handled is left alone),
the execution, and the cursor. So a version made just before a crash launches
once after the restart, and never twice.

The execution's inputs are the trigger's bindings, resolved against the
version that fired it (`OnArtifact.to_spec` writes them):
- `{"artifact": A, "triggering": true}`: that version's value;
- `{"artifact": B, "triggering": false}`: the newest version of B;
- `{"trigger_partition": key, "offset_seconds": s}`: one of its partitions
  (the time partition, shifted);
- `{"artifact_query": {...}}`: a query whose partitions may read its partitions;
- `{"value": v}`: a literal.

Executions launched by a trigger carry `trigger_depth` in their settings (one
more than the execution that made the version); past MAX_TRIGGER_DEPTH
(PLAIT_MAX_TRIGGER_DEPTH) the
version is recorded as `failed` with the chain in words, which stops a cycle
(A's plan making A again) from running forever.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from ..store import queries
from ..store.errors import NotFound
from ..store.queries import artifacts as aq
from ..store.queries import concurrency
from ..store.queries import launch_plans as lpq
from .catalog import LaunchArtifacts

if TYPE_CHECKING:
    from ..execution.scheduler import Scheduler

log = logging.getLogger(__name__)

MAX_TRIGGER_DEPTH = 10
BATCH = 50  # versions handled per plan per turn
POLL_S = 0.2  # how often the scheduler looks for new versions while a trigger is active


def max_depth() -> int:
    """MAX_TRIGGER_DEPTH, or PLAIT_MAX_TRIGGER_DEPTH when set."""
    return int(os.environ.get("PLAIT_MAX_TRIGGER_DEPTH") or MAX_TRIGGER_DEPTH)


def execution_name(project: str, domain: str, plan: str, version: str) -> str:
    """The execution a version launches: named by the plan and the version, so a retry of the
    same version names the same execution."""
    slug = re.sub(r"[^a-z0-9]+", "-", plan.lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = f"lp-{slug}".rstrip("-")
    digest = hashlib.sha256(f"{project}/{domain}/{plan}".encode()).hexdigest()[:6]
    return f"{slug[:40].rstrip('-')}-{version[:12]}-{digest}"


class TriggerRefused(Exception):
    """The version does not launch the plan (the concurrency policy: `skipped`)."""


class ArtifactTriggers:
    """Launches of active plans with artifact triggers; one turn at a time, on the scheduler's thread."""

    def __init__(self, scheduler: Scheduler, submit: Callable[[str], None]) -> None:
        self.scheduler = scheduler
        self.db = scheduler.db
        self.submit = submit
        self._triggers: dict[tuple[str, str, str, str], dict[str, Any] | None] = {}
        self.active = False  # whether any active plan has a trigger (the scheduler then looks often)

    def _trigger(self, state: lpq.LaunchPlanStateRecord) -> dict[str, Any] | None:
        assert state.active_version is not None
        key = (state.project, state.domain, state.name, state.active_version)
        if key not in self._triggers:
            try:
                with self.db.session(readonly=True) as s:
                    spec = lpq.launch_plan_spec(s, *key)
            except NotFound:
                return None
            trigger = spec.get("trigger")
            ok = isinstance(trigger, dict) and trigger.get("kind") == "artifact_trigger"
            self._triggers[key] = trigger if ok else None
        return self._triggers[key]

    def turn(self, plans: list[lpq.LaunchPlanStateRecord], now: dt.datetime) -> list[tuple[str, str, str | None]]:
        """Handle the new versions of every active trigger; (plan, outcome, execution) of each."""
        done: list[tuple[str, str, str | None]] = []
        active = False
        for state in plans:
            trigger = self._trigger(state)
            if trigger is None:
                continue
            active = True
            target = trigger.get("trigger_on") or {}
            project = target.get("project") or state.project
            domain = target.get("domain") or state.domain
            with self.db.session(readonly=True) as s:
                new = aq.versions_after(s, project, domain, str(target.get("name")), state.trigger_after or 0,
                                        limit=BATCH)
            wanted = {k: b["value"] for k, b in ((target.get("bindings") or {}).get("partitions") or {}).items()
                      if isinstance(b, dict) and "value" in b}
            for version in new:
                if any(version.partitions.get(k) != str(v) for k, v in wanted.items()):
                    with self.db.session() as s:  # not a version this trigger waits for
                        lpq.advance_trigger(s, state.project, state.domain, state.name, version.id)
                    continue
                try:
                    done.append(self._fire(state, trigger, version, now))
                except SQLAlchemyError:
                    log.exception("launch plan %s: handling artifact %s failed; trying again next turn",
                                  state.name, version.uri)
                    break
        self.active = active
        return done

    def _fire(self, state: lpq.LaunchPlanStateRecord, trigger: dict[str, Any], version: aq.ArtifactVersionRecord,
              now: dt.datetime) -> tuple[str, str, str | None]:
        execution_id = execution_name(state.project, state.domain, state.name, version.version)
        with self.db.session() as s:
            current = lpq.get_launch_plan_state(s, state.project, state.domain, state.name)
            if current.active_version is None:
                return (state.name, "inactive", None)
            plan_version = current.active_version
            run_id = aq.record_trigger_run(s, project=state.project, domain=state.domain, name=state.name,
                                           version=plan_version, artifact_id=version.id, outcome="launched",
                                           execution_id=execution_id, now=now)
            if run_id is None:  # handled before (another turn, or before a restart)
                lpq.advance_trigger(s, state.project, state.domain, state.name, version.id)
                return (state.name, "handled", None)
            outcome, detail = "launched", None
            try:
                with s.begin_nested():
                    self._launch(s, state, plan_version, trigger, version, execution_id)
            except TriggerRefused as exc:
                outcome, detail = "skipped", str(exc)
            except SQLAlchemyError:
                raise
            except Exception as exc:  # noqa: BLE001 - recorded on the run, which the user sees
                outcome, detail = "failed", str(exc) or type(exc).__name__
                if detail.startswith("Concurrency limit"):
                    outcome = "skipped"
            if outcome != "launched":
                aq.set_trigger_outcome(s, run_id, outcome, detail=detail)
            lpq.advance_trigger(s, state.project, state.domain, state.name, version.id)
        if outcome == "launched":
            self.submit(execution_id)
            return (state.name, outcome, execution_id)
        log.warning("launch plan %s/%s/%s on artifact %s: %s: %s", state.project, state.domain, state.name,
                    version.uri, outcome, detail)
        return (state.name, outcome, None)

    def _launch(self, s: Any, state: lpq.LaunchPlanStateRecord, plan_version: str, trigger: dict[str, Any],
                version: aq.ArtifactVersionRecord, execution_id: str) -> None:
        from ..api import launching

        depth = 1
        if version.execution_id:
            try:
                producer = queries.get_execution(s, version.execution_id)
                depth = int(producer.settings.get("trigger_depth") or 0) + 1
            except NotFound:
                pass
        limit = max_depth()
        if depth > limit:
            raise RuntimeError(
                f"stopped: this would be execution {depth} of a chain where each was launched by an "
                f"artifact the one before made (the last: `{version.name}` from execution "
                f"{version.execution_id}); the limit is {limit}. A launch plan that makes the "
                "artifact it is triggered by loops: trigger it on another artifact"
            )
        lp, target, interface = self.scheduler._template(s, state.project, state.domain, state.name, plan_version)
        given = self._inputs(trigger, version, interface)
        found = LaunchArtifacts(s, state.project, state.domain)
        inputs = launching.merge_inputs(target.name, interface, given, launch_plan=lp, artifacts=found)
        settings = launching.merge_settings(_NoSettings(), lp)
        settings["trigger_depth"] = depth
        settings["triggered_by"] = {"name": version.name, "version": version.version, "uri": version.uri}
        if found.resolved:
            settings["artifact_inputs"] = found.summary()
        storage = self.scheduler.storage
        if storage is not None:
            settings["raw_output_prefix"] = launching.raw_output_prefix(settings.get("raw_output_prefix"),
                                                                        storage.uri("x")[:-1])
        launching.check_secrets(s, state.project, state.domain, target.kind, target.name, target.version)
        launching.check_pools(s, self.scheduler.cluster, state.project, state.domain, target.kind, target.name,
                              target.version, settings)
        policy = concurrency.policy_of(lp.settings)
        admitted, active = concurrency.admit_launch_plan(s, state.project, state.domain, state.name, policy)
        if not admitted:
            assert policy is not None
            raise TriggerRefused(concurrency.limit_message(state.name, state.project, state.domain, policy, active))
        queries.create_execution(
            s, project=state.project, domain=state.domain, entity_kind=target.kind, entity_name=target.name,
            entity_version=target.version, inputs=inputs, settings=settings, id=execution_id,
            launch_plan_name=state.name, launch_plan_version=plan_version,
        )
        aq.record_use(s, version.id, execution_id, "trigger")
        found.note(execution_id)

    @staticmethod
    def _inputs(trigger: dict[str, Any], version: aq.ArtifactVersionRecord, interface: Any) -> dict[str, Any]:
        """The trigger's bindings as launch inputs: literals, or artifact queries the launch resolves."""
        types = {i.name: i.type for i in interface.inputs}
        out: dict[str, Any] = {}
        for name, binding in (trigger.get("inputs") or {}).items():
            if not isinstance(binding, Mapping):
                continue
            if "artifact" in binding and "trigger_partition" not in binding:
                pinned = {"version": version.version} if binding.get("triggering") else {}
                out[name] = {"artifact_query": {"artifact": binding["artifact"], "partitions": {}, **pinned}}
            elif "trigger_partition" in binding:
                out[name] = _literal_for(types.get(name), _partition(version, binding))
            elif "artifact_query" in binding:
                query = dict(binding["artifact_query"])
                query["partitions"] = {
                    k: ({"value": _text(_partition(version, b))} if isinstance(b, Mapping) and "trigger_partition" in b
                        else b)
                    for k, b in (query.get("partitions") or {}).items()}
                tp = query.get(aq.TIME_PARTITION)
                if isinstance(tp, Mapping) and "trigger_partition" in tp:
                    query[aq.TIME_PARTITION] = {"value": _text(_partition(version, tp))}
                out[name] = {"artifact_query": query}
            elif "value" in binding:
                out[name] = _literal_for(types.get(name), binding["value"])
        return out


def _partition(version: aq.ArtifactVersionRecord, binding: Mapping[str, Any]) -> Any:
    key = binding["trigger_partition"]
    if key == aq.TIME_PARTITION:
        if version.time_partition is None:
            raise ValueError(f"artifact `{version.name}` version {version.version} has no time partition")
        when = dt.datetime.fromisoformat(version.time_partition)
        return when + dt.timedelta(seconds=float(binding.get("offset_seconds") or 0))
    if key not in version.partitions:
        raise ValueError(
            f"artifact `{version.name}` version {version.version} has no partition `{key}`; it has "
            f"{sorted(version.partitions) or 'none'}"
        )
    return version.partitions[key]


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


def _literal_for(type_spec: dict[str, Any] | None, value: Any) -> Any:
    """A bound value as the literal of the input's type (date-times are tagged)."""
    kind = (type_spec or {}).get("kind")
    if kind == "datetime" and isinstance(value, (dt.datetime, str)):
        return {"__datetime__": _text(value)}
    if kind == "date" and isinstance(value, (dt.datetime, str)):
        return {"__date__": (value.date().isoformat() if isinstance(value, dt.datetime) else value[:10])}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


class _NoSettings:
    """A launch that sets no settings of its own: the plan's apply."""

    model_fields_set: frozenset[str] = frozenset()
