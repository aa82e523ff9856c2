"""What an execution starts with: its inputs (checked) and its settings (merged).

Framework-free: the routes give it specs and request data and store what it
returns. Inputs come from four places, later ones winning: the interface's
defaults, the launch plan's default inputs, the request, the launch plan's
fixed inputs (which the request may not override). Each input is checked
against its declared type with `plait.model.literals.validate_literal`; every
problem is reported at once, naming the input, the type and what was given.
"""

from __future__ import annotations

from typing import Any

from plait.model import InterfaceSpec, LaunchPlanSpec
from plait.model.literals import describe_type, literal_type_name, validate_literal

from ..execution.values import literal_ref
from .errors import InputProblems, Problem

# A default the client could not write as a literal; the worker applies it.
UNREPRESENTABLE = "__unrepresentable__"
SETTING_KEYS = (
    "overwrite_cache", "max_parallelism", "envs", "labels", "annotations",
    "raw_output_prefix", "interruptible",
)


def _is_artifact_query(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"artifact_query"}


def merge_inputs(
    entity: str,
    interface: InterfaceSpec,
    given: dict[str, Any],
    *,
    launch_plan: LaunchPlanSpec | None = None,
) -> dict[str, dict[str, Any]]:
    """The execution's inputs as value refs `{"literal": ..., "hash": ...}`, or `InputProblems`.

    Literals are normalised as a worker's type check would (an int given for
    a float becomes a float), so cache keys match the local engine's.

    `interface` is the interface of what runs (the workflow, for a launch plan).
    """
    problems: list[Problem] = []
    declared = {i.name: i for i in interface.inputs}
    fixed = dict(launch_plan.fixed_inputs) if launch_plan else {}
    defaults = dict(launch_plan.default_inputs) if launch_plan else {}
    plan = f"launch plan `{launch_plan.name}`" if launch_plan else ""

    for name in given:
        if name not in declared:
            known = ", ".join(declared) or "none"
            problems.append(Problem(
                name, None, literal_type_name(given[name]),
                f"`{entity}` has no input `{name}`; its inputs: {known}",
            ))
        elif name in fixed:
            problems.append(Problem(
                name, describe_type(declared[name].type), literal_type_name(given[name]),
                f"input `{name}` is fixed to {fixed[name]!r} by {plan} and cannot be overridden; "
                "leave it out, or launch the workflow or another launch plan",
            ))

    usable_defaults = _interface_defaults(interface)
    merged: dict[str, Any] = {}
    source: dict[str, str] = {}
    for spec in interface.inputs:
        name = spec.name
        layers = []  # later layers win
        if not spec.required and name in usable_defaults:
            layers.append(("default", spec.default))
        if name in defaults:
            layers.append(("default input", defaults[name]))
        if name in given and name not in fixed:
            layers.append(("request", given[name]))
        if name in fixed:
            layers.append(("fixed input", fixed[name]))
        if layers:
            source[name], merged[name] = layers[-1]

    for spec in interface.inputs:
        expected = describe_type(spec.type)
        if spec.name not in merged:
            if spec.required:
                problems.append(Problem(
                    spec.name, expected, "nothing",
                    f"`{entity}` needs input `{spec.name}` ({expected}); none was given",
                ))
            continue
        value = merged[spec.name]
        if source[spec.name] != "request" and _is_artifact_query(value):
            problems.append(Problem(
                spec.name, expected, "artifact query",
                f"input `{spec.name}` of `{entity}` defaults to an artifact query, which this "
                f"server does not resolve yet; pass a value for `{spec.name}`",
            ))
            continue
        error = validate_literal(spec.type, value)
        if error is not None:
            origin = "" if source[spec.name] == "request" else f" ({source[spec.name]} of {plan or entity})"
            what = error if error.startswith("expected ") else f"expected {expected}: {error}"
            problems.append(Problem(
                spec.name, expected, literal_type_name(value),
                f"input `{spec.name}` of `{entity}`{origin}: {what}",
            ))
    if problems:
        raise InputProblems(entity, problems)
    types = {spec.name: spec.type for spec in interface.inputs}
    return {name: literal_ref(value, types[name]) for name, value in merged.items()}


def _interface_defaults(interface: InterfaceSpec) -> set[str]:
    """Inputs whose interface default is a usable literal (not an artifact query or unrepresentable)."""
    out = set()
    for spec in interface.inputs:
        default = spec.default
        if isinstance(default, dict) and (UNREPRESENTABLE in default or _is_artifact_query(default)):
            continue
        out.add(spec.name)
    return out


def _values(block: Any) -> dict[str, str]:
    """Labels/annotations as launch plan specs write them: `{"values": {...}}` or a plain dict."""
    if isinstance(block, dict):
        inner = block.get("values", block)
        if isinstance(inner, dict):
            return {str(k): str(v) for k, v in inner.items()}
    return {}


def merge_settings(given: Any, launch_plan: LaunchPlanSpec | None) -> dict[str, Any]:
    """Execution settings: the request's, over the launch plan's, over the defaults.

    `given` is the request's `ExecutionSettings`; only the fields it sets win.
    """
    chosen = given.model_fields_set
    lp = launch_plan.settings if launch_plan else {}
    raw_config = lp.get("raw_output_data_config") or {}
    settings: dict[str, Any] = {
        "overwrite_cache": bool(lp.get("overwrite_cache") or False),
        "max_parallelism": lp.get("max_parallelism"),
        "envs": {},
        "labels": _values(lp.get("labels")),
        "annotations": _values(lp.get("annotations")),
        "raw_output_prefix": raw_config.get("output_location_prefix") if isinstance(raw_config, dict) else None,
        "interruptible": None,
    }
    for key in SETTING_KEYS:
        if key not in chosen:
            continue
        value = getattr(given, key)
        if key in ("labels", "annotations"):
            settings[key] = {**settings[key], **value}
        else:
            settings[key] = value
    return settings
