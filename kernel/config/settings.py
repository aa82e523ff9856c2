"""Run-time settings of a task node: resources, retries, timeout, cache, environment.

A task carries its defaults; `with_overrides` on a node replaces some of them;
`effective(task, overrides)` merges the two. Validation happens where the
user wrote the value, with a message naming it.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import InputError
from ..typesys.text import parse_duration
from .cache import Cache, normalize_cache


def parse_timeout(owner: str, value: Any) -> float | None:
    """Seconds from an int, a float, a timedelta or text such as '10m' / '1h' (`typesys.text`)."""
    if value is None or value == 0:
        return None
    if isinstance(value, _dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (duration := _duration(value)) is not None:
        seconds = duration.total_seconds()
    else:
        raise InputError(
            f"{owner}: timeout expects seconds, a datetime.timedelta or text such as "
            f"'30s', '10m' or '1h', got {value!r}"
        )
    if seconds <= 0:
        raise InputError(f"{owner}: timeout must be positive, got {value!r}")
    return seconds


def _duration(text: str) -> _dt.timedelta | None:
    try:
        return parse_duration(text)
    except ValueError:
        return None


def parse_retries(owner: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{owner}: retries expects a whole number >= 0, got {value!r}")
    return value


def _resources(owner: str, key: str, value: Any) -> Any:
    if value is None:
        return None
    from .resources import Resources

    if not isinstance(value, Resources):
        raise InputError(
            f"{owner}: `{key}` expects plait.Resources(cpu=..., mem=..., gpu=...), "
            f"got {type(value).__name__}"
        )
    return value


def _accelerator(owner: str, value: Any) -> Any:
    if value is None:
        return None
    from .resources import accelerator_from

    try:
        return accelerator_from(value)
    except InputError as exc:
        raise InputError(f"{owner}: {exc}") from None


def _environment(owner: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InputError(
            f"{owner}: environment expects a dict of str to str, e.g. "
            f"{{'LOG_LEVEL': 'debug'}}, got {value!r}"
        )
    return dict(value)


def _interruptible(owner: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise InputError(f"{owner}: interruptible expects True or False, got {value!r}")
    return value  # type: ignore[no-any-return]


def _image(owner: str, value: Any) -> Any:
    if value is None or isinstance(value, str) or hasattr(value, "image_name"):
        return value
    raise InputError(
        f"{owner}: container_image expects an image name such as 'python:3.11-slim' or a "
        f"plait.ImageSpec, got {type(value).__name__}"
    )


def _secrets(owner: str, value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    from .security import Secret

    items = list(value) if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if not isinstance(item, Secret):
            raise InputError(
                f"{owner}: secret_requests expects plait.Secret objects, e.g. "
                f"Secret(group='db', key='password'), got {item!r}"
            )
    return tuple(items)


def _pod_template(owner: str, value: Any) -> Any:
    if value is None:
        return None
    from .resources import PodTemplate

    if not isinstance(value, PodTemplate):
        raise InputError(f"{owner}: pod_template expects a plait.PodTemplate, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class TaskSettings:
    retries: int = 0
    timeout: float | None = None
    cache: Cache | None = None
    interruptible: bool | None = None
    requests: Any = None
    limits: Any = None
    accelerator: Any = None
    environment: dict[str, str] = field(default_factory=dict)
    container_image: Any = None
    secret_requests: tuple[Any, ...] = ()
    pod_template: Any = None
    pod_template_name: str | None = None
    task_config: Any = None

    def to_spec(self) -> dict[str, Any]:
        def spec_of(v: Any) -> Any:
            if v is None or isinstance(v, (str, int, float, bool)):
                return v
            if hasattr(v, "to_spec"):
                return v.to_spec()
            return repr(v)

        return {
            "retries": self.retries,
            "timeout": self.timeout,
            "cache": spec_of(self.cache),
            "interruptible": self.interruptible,
            "requests": spec_of(self.requests),
            "limits": spec_of(self.limits),
            "accelerator": spec_of(self.accelerator),
            "environment": dict(self.environment),
            "container_image": spec_of(self.container_image),
            "secret_requests": [spec_of(s) for s in self.secret_requests],
            "pod_template": spec_of(self.pod_template),
            "pod_template_name": self.pod_template_name,
            "task_config": spec_of(self.task_config),
        }


def build_settings(owner: str, **kw: Any) -> TaskSettings:
    cache = normalize_cache(
        owner,
        kw.pop("cache", None),
        kw.pop("cache_version", "") or "",
        kw.pop("cache_serialize", False),
        kw.pop("cache_ignore_input_vars", ()) or (),
    )
    return TaskSettings(
        retries=parse_retries(owner, kw.get("retries", 0)),
        timeout=parse_timeout(owner, kw.get("timeout")),
        cache=cache,
        interruptible=_interruptible(owner, kw.get("interruptible")),
        requests=_resources(owner, "requests", kw.get("requests")),
        limits=_resources(owner, "limits", kw.get("limits")),
        accelerator=_accelerator(owner, kw.get("accelerator")),
        environment=_environment(owner, kw.get("environment")),
        container_image=_image(owner, kw.get("container_image")),
        secret_requests=_secrets(owner, kw.get("secret_requests")),
        pod_template=_pod_template(owner, kw.get("pod_template")),
        pod_template_name=kw.get("pod_template_name"),
        task_config=kw.get("task_config"),
    )


def validate_overrides(owner: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Check `with_overrides` values; returns them normalised."""
    out: dict[str, Any] = {}
    where = f"with_overrides() on `{owner}`"
    for key, value in overrides.items():
        if key == "retries":
            out[key] = parse_retries(where, value)
        elif key == "timeout":
            out[key] = parse_timeout(where, value)
        elif key in ("requests", "limits"):
            out[key] = _resources(where, key, value)
        elif key == "accelerator":
            out[key] = _accelerator(where, value)
        elif key == "cache":
            out[key] = normalize_cache(where, value)
        elif key == "environment":
            out[key] = _environment(where, value)
        elif key in ("name", "node_name"):
            if not isinstance(value, str) or not value:
                raise InputError(f"{where}: `{key}` expects a non-empty string, got {value!r}")
            out["name" if key == "name" else key] = value
        elif key == "interruptible":
            if not isinstance(value, bool):
                raise InputError(f"{where}: `interruptible` expects True or False, got {value!r}")
            out[key] = value
        elif key == "concurrency":
            if value is not None and (not isinstance(value, int) or value < 1):
                raise InputError(f"{where}: `concurrency` expects a whole number >= 1, got {value!r}")
            out[key] = value
        elif key == "min_success_ratio":
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise InputError(f"{where}: `min_success_ratio` expects a number in [0, 1], got {value!r}")
            out[key] = float(value)
        else:
            out[key] = value
    return out


def effective(settings: TaskSettings, overrides: dict[str, Any]) -> TaskSettings:
    if not overrides:
        return settings
    changes = {k: v for k, v in overrides.items() if k in TaskSettings.__dataclass_fields__}
    return replace(settings, **changes) if changes else settings


def overrides_spec(overrides: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in overrides.items():
        out[k] = v.to_spec() if hasattr(v, "to_spec") else v
    return out
