"""What a registration stores: checked specs, one version, digests, default launch plans.

Framework-free: `plan_registration` turns a request's specs into the entities
to store; the route stores them in one transaction (the store refuses a used
version with other content). Every entity of one registration gets the same
version, so a workflow's nodes find their tasks at the workflow's version.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from plait import environments
from plait.model import LaunchPlanSpec, SpecError, TaskSpec, WorkflowSpec, parse_spec
from plait.model.keys import content_version as content_version_of
from plait.model.vocab import stored_kind

from .errors import InvalidField


@dataclass(frozen=True)
class Planned:
    """One entity to store."""

    kind: str  # task | workflow | launch_plan
    name: str
    spec: dict[str, Any]
    digest: str
    description: str


def major_minor(version: str) -> str:
    return ".".join(version.strip().split(".")[:2])


def check_python(client: str, workers: str) -> None:
    """Code pickled by one Python (major.minor) does not load in another: refuse early."""
    if major_minor(client) != major_minor(workers):
        raise InvalidField(
            f"this code was registered from Python {major_minor(client)}, but the backend's "
            f"workers run Python {major_minor(workers)}; register from a Python "
            f"{major_minor(workers)} environment, or run workers with Python {major_minor(client)}",
            field="python_version",
        )


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def content_version(specs: list[dict[str, Any]], bundle_digest: str | None) -> str:
    """The default version: a hash of every spec (in any order) and the bundle."""
    digests = sorted(hashlib.sha256(_canonical(s)).hexdigest() for s in specs)
    return hashlib.sha256(_canonical({"specs": digests, "bundle": bundle_digest})).hexdigest()[:16]


def _digest(spec: dict[str, Any], bundle_digest: str | None) -> str:
    return hashlib.sha256(_canonical({"spec": spec, "bundle": bundle_digest})).hexdigest()


def _short_doc(spec: dict[str, Any]) -> str:
    docs = spec.get("docs")
    return str(docs.get("short") or "") if isinstance(docs, dict) else ""


def parse_specs(specs: list[dict[str, Any]]) -> list[TaskSpec | WorkflowSpec | LaunchPlanSpec]:
    """Each spec checked by plait.model; a bad one is a 422 naming `specs[i]`."""
    parsed = []
    for i, spec in enumerate(specs):
        try:
            parsed.append(parse_spec(spec))
        except SpecError as exc:
            raise InvalidField(f"specs[{i}]: {exc}", field=f"specs[{i}]") from None
        if len(parsed[-1].name) > 255:
            raise InvalidField(f"specs[{i}]: names are at most 255 characters", field=f"specs[{i}].name")
    seen: dict[tuple[str, str], int] = {}
    for i, (raw, typed) in enumerate(zip(specs, parsed, strict=True)):
        key = (stored_kind(raw["kind"]), typed.name)
        if key in seen:
            raise InvalidField(
                f"specs[{i}]: {key[0].replace('_', ' ')} `{typed.name}` is also specs[{seen[key]}]; "
                "register each entity once",
                field=f"specs[{i}]",
            )
        seen[key] = i
    return parsed


def default_launch_plan(workflow: dict[str, Any]) -> dict[str, Any]:
    """The launch plan `LaunchPlan.get_or_create(wf)` writes: the workflow's name, no inputs set."""
    body: dict[str, Any] = {
        "kind": "launch_plan",
        "name": workflow["name"],
        "interface": workflow["interface"],
        "workflow": workflow["name"],
        "default_inputs": {},
        "fixed_inputs": {},
        "schedule": None,
        "notifications": [],
        "labels": None,
        "annotations": None,
        "max_parallelism": None,
        "security_context": None,
        "auth_role": None,
        "raw_output_data_config": None,
        "trigger": None,
        "concurrency": None,
        "overwrite_cache": None,
        "auto_activate": False,
    }
    body["version"] = content_version_of(body)
    return body


def with_code_bundle(spec: dict[str, Any], bundle_digest: str | None) -> dict[str, Any]:
    """Point a task's code reference at the registration's bundle, if it names none."""
    code = spec.get("code")
    if bundle_digest is None or not isinstance(code, dict) or code.get("bundle"):
        return spec
    return {**spec, "code": {**code, "bundle": bundle_digest}}


_DIGEST = re.compile(r"^[0-9a-f]{64}\Z")
_CODE_WHAT = {
    "bundle": ("a code bundle", "PUT /api/v1/bundles/{digest}"),
    "pickle": ("a by-value function", "PUT /api/v1/functions/{digest}"),
}


def code_refs(specs: list[dict[str, Any]], kind: str) -> list[tuple[int, str]]:
    """(index, digest) of every `code.<kind>` (bundle or pickle) the specs name.

    Each must be the sha256 (64 lowercase hex digits) of an upload: the worker
    finds the code by it, so a path or anything else is refused here (a 422
    naming `specs[i].code.<kind>`). Absent or null means none.
    """
    what, upload = _CODE_WHAT[kind]
    out = []
    for i, spec in enumerate(specs):
        code = spec.get("code")
        if code is None:
            continue
        if not isinstance(code, dict):
            raise InvalidField(f"specs[{i}].code must be an object such as {{\"bundle\": digest, "
                               f"\"module\": ..., \"qualname\": ...}}, found {type(code).__name__}",
                               field=f"specs[{i}].code")
        value = code.get(kind)
        if value is None:
            continue
        if not isinstance(value, str) or not _DIGEST.match(value):
            shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
            raise InvalidField(
                f"specs[{i}].code.{kind} must be the sha256 digest (64 lowercase hex digits) of "
                f"{what} uploaded with {upload}, found {shown}; upload the code and name it by "
                "its digest, as plait.Remote does",
                field=f"specs[{i}].code.{kind}",
            )
        out.append((i, value))
    return out



@dataclass(frozen=True)
class Reference:
    """An entity registered elsewhere that these specs use; it must exist, it is not stored."""

    index: int
    kind: str
    project: str
    domain: str
    name: str
    version: str


def references(specs: list[dict[str, Any]]) -> list[Reference]:
    out = []
    for i, spec in enumerate(specs):
        ref = spec.get("reference")
        if not isinstance(ref, dict):
            continue
        try:
            out.append(Reference(i, stored_kind(spec["kind"]), str(ref["project"]), str(ref["domain"]),
                                 str(ref["name"]), str(ref["version"])))
        except KeyError as exc:
            raise InvalidField(f"specs[{i}]: the reference needs a `{exc.args[0]}`",
                               field=f"specs[{i}].reference") from None
    return out


def check_environments(specs: list[dict[str, Any]]) -> None:
    """Every image a task names can be built by this server's builder (`plait.environments`):
    a 422 naming `specs[i].<path>` of the first that cannot, with every problem it has."""
    builder = environments.configured_builder()
    for i, spec in enumerate(specs):
        problems = environments.problems_in(spec, builder)
        if problems:
            what = f"{spec.get('kind')} `{spec.get('name')}`"
            raise InvalidField(f"specs[{i}] ({what}): " + "; ".join(p.message for p in problems),
                               field=f"specs[{i}].{problems[0].field}")


def plan_registration(specs: list[dict[str, Any]], bundle_digest: str | None) -> list[Planned]:
    """The entities to store for these specs, default launch plans included.

    Reference specs (entities registered elsewhere) are not stored; check them
    with `references`.
    """
    parse_specs(specs)
    check_environments(specs)
    specs = [with_code_bundle(s, bundle_digest) for s in specs if "reference" not in s]
    plans = {s["name"] for s in specs if s["kind"] == "launch_plan"}
    extra = [default_launch_plan(s) for s in specs if s["kind"] == "workflow" and s["name"] not in plans]
    docs = {s["name"]: _short_doc(s) for s in specs if s["kind"] == "workflow"}
    planned = []
    for spec in [*specs, *extra]:
        kind = stored_kind(spec["kind"])
        description = _short_doc(spec)
        if kind == "launch_plan" and not description:
            description = docs.get(str(spec.get("workflow")), "")
        planned.append(Planned(kind, spec["name"], spec, _digest(spec, bundle_digest), description))
    return planned
