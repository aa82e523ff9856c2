"""What a request must be before anything of it is stored or run.

FastAPI parses JSON bodies with Python's `json`, which accepts what cannot be
stored, shown or run: `"\\ud800"` (a lone surrogate, not Unicode text: no page
that shows it can be encoded), `NaN`, `Infinity` and `1e400` (infinite). An
execution committed with one ran, but its answer and its pages failed. So
every route that takes a body calls `check_request` first, and a launch calls
`check_settings`: each problem is a 422 naming the field (`inputs.scores[1]`,
`settings.envs.A=B`, `settings.labels.team`) before anything is committed.

Execution settings must be what a process and Kubernetes take: environment
variable names that are not empty and hold no `=` or NUL, values without NUL;
labels and annotations by the rules the SDK enforces
(`plait.config.security.validate_labels` / `validate_annotations`); and sizes
within the limits below.
"""

from __future__ import annotations

import json
import math
from typing import Any

from plait.config.security import validate_annotations, validate_labels
from plait.errors import InputError, TypeMismatchError
from pydantic import BaseModel

from .errors import InvalidField

KiB = 1024
# Limits in bytes of UTF-8: names and values together. Kubernetes itself allows
# 256 KiB of annotations per object; a process environment shares ~2 MiB with
# the command line.
MAX_ENVS_BYTES = 64 * KiB
MAX_LABELS_BYTES = 16 * KiB
MAX_ANNOTATIONS_BYTES = 128 * KiB
# The settings an execution stores (the launch plan's merged with the request's), as JSON.
MAX_SETTINGS_BYTES = 256 * KiB


def _shown(text: str) -> str:
    """`text` for a field path or a message: as is when plain, else as Python escapes it."""
    return text if text.isprintable() and len(text) <= 80 else repr(text)[:80]  # surrogates are not printable


def _check_text(text: str, field: str, what: str = "") -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # only a surrogate cannot be encoded
        i = exc.start
        raise InvalidField(
            f"`{field}`{what} has a lone surrogate ({text[i]!r} at character {i}), which is not "
            "Unicode text; send valid UTF-8 (in JSON, a \\ud800-\\udfff escape must be one of a "
            "high-low pair)", field=field,
        ) from None


def _check_number(value: float, field: str) -> None:
    if math.isnan(value):
        raise InvalidField(
            f"`{field}` is NaN; numbers must be finite (JSON has no NaN): send a number, or null "
            "for an Optional value", field=field,
        )
    if math.isinf(value):
        sign = "-" if value < 0 else ""
        raise InvalidField(
            f"`{field}` is {sign}Infinity, or a number beyond ±1.8e308 that a float cannot hold; "
            "numbers must be finite: send one within range", field=field,
        )


def _walk(value: Any, field: str) -> None:
    if isinstance(value, str):
        _check_text(value, field)
    elif isinstance(value, float):
        _check_number(value, field)
    elif isinstance(value, dict):
        for key, item in value.items():
            key = str(key)
            _check_text(key, field, f" has a key `{_shown(key)}` that")
            _walk(item, f"{field}.{_shown(key)}" if field else _shown(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _walk(item, f"{field}[{i}]")


def check_json(value: Any, field: str) -> None:
    """InvalidField naming the first string with a lone surrogate or number that is not finite."""
    try:  # the common case, in C: nothing to find
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
        return
    except (ValueError, TypeError):  # UnicodeEncodeError is a ValueError
        pass
    _walk(value, field)


def check_request(model: BaseModel, field: str = "") -> None:
    """Every field of a request body (nested models included), by `check_json`."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = f"{field}.{name}" if field else name
        if isinstance(value, BaseModel):
            check_request(value, path)
        else:
            check_json(value, path)


def _utf8(mapping: dict[str, str]) -> int:
    return sum(len(k.encode()) + len(v.encode()) for k, v in mapping.items())


def _limit(mapping: dict[str, str], field: str, limit: int, what: str) -> None:
    size = _utf8(mapping)
    if size > limit:
        raise InvalidField(
            f"`{field}` holds {size // KiB} KiB of {what}; at most {limit // KiB} KiB are accepted"
            + ("; put larger settings in a file the task reads, and secrets in the secret store"
               if what == "environment variables" else ""),
            field=field,
        )


def check_envs(envs: dict[str, str], field: str = "settings.envs") -> None:
    """Names a process environment takes (not empty, no `=` or NUL), values without NUL."""
    for name, value in envs.items():
        where = f"{field}.{_shown(name)}"
        if not name:
            raise InvalidField(f"`{field}` has a variable with an empty name; give it a name",
                               field=f"{field}.")
        if "=" in name:
            first, _, rest = name.partition("=")
            raise InvalidField(
                f"`{where}`: an environment variable name cannot contain '='; "
                f"to set {first} to {rest!r}, send {json.dumps({first: rest})}", field=where,
            )
        if "\x00" in name:
            raise InvalidField(f"`{where}`: an environment variable name cannot contain a NUL "
                               "character; remove it", field=where)
        if "\x00" in value:
            raise InvalidField(f"`{where}`: an environment variable value cannot contain a NUL "
                               "character; remove it, or pass binary data as an input", field=where)
    _limit(envs, field, MAX_ENVS_BYTES, "environment variables")


def _check_keyed(values: dict[str, str], field: str, validate: Any) -> None:
    for key, value in values.items():
        try:
            validate({key: value}, owner=field)
        except (InputError, TypeMismatchError) as exc:
            raise InvalidField(str(exc), field=f"{field}.{_shown(key)}") from None


def check_settings(settings: Any, field: str = "settings") -> None:
    """The request's execution settings (an `ExecutionSettings`): envs, labels, annotations."""
    check_envs(settings.envs, f"{field}.envs")
    _check_keyed(settings.labels, f"{field}.labels", validate_labels)
    _limit(settings.labels, f"{field}.labels", MAX_LABELS_BYTES, "labels")
    _check_keyed(settings.annotations, f"{field}.annotations", validate_annotations)
    _limit(settings.annotations, f"{field}.annotations", MAX_ANNOTATIONS_BYTES, "annotations")


def check_stored_settings(settings: dict[str, Any], field: str = "settings") -> None:
    """The settings an execution would store (a launch plan's merged with the request's): their
    size, and that they hold nothing `check_json` refuses (a launch plan registered before the
    checks, or a relaunched execution, may bring values the request did not)."""
    check_json(settings, field)
    size = len(json.dumps(settings, ensure_ascii=False).encode())
    if size > MAX_SETTINGS_BYTES:
        raise InvalidField(
            f"`{field}` would be {size // KiB} KiB with the launch plan's labels and annotations; "
            f"at most {MAX_SETTINGS_BYTES // KiB} KiB are accepted", field=field,
        )
