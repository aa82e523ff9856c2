"""JSON answers that always encode, whatever the database holds.

Requests are checked (checks.py), but rows written before those checks, and
what tasks write themselves (an error message made from bytes decoded with
`surrogateescape`), may hold text that is not Unicode: a lone surrogate, which
no JSON encoder will write as UTF-8. Such a row must not make its page fail
for good: `json_bytes` serialises a response model as usual, and only when
that fails writes it again with every lone surrogate replaced by U+FFFD
(non-finite numbers are written as null, as pydantic always does).
"""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError
from starlette.responses import Response

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(value: Any) -> Any:
    """`value` with lone surrogates replaced by U+FFFD in every string and key, NaN and ±inf as None."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def json_bytes(model: BaseModel) -> bytes:
    """The model as JSON (UTF-8); text that cannot be encoded is replaced, never a failure."""
    try:
        return model.model_dump_json().encode()
    except (PydanticSerializationError, UnicodeEncodeError):
        return type(model).model_validate(clean(model.model_dump(mode="python"))).model_dump_json().encode()


def answer(model: BaseModel, status_code: int = 200) -> Any:
    """A route's JSON answer, serialised once by `json_bytes` (FastAPI passes a Response through)."""
    return Response(content=json_bytes(model), status_code=status_code, media_type="application/json")


class SafeJSONResponse(JSONResponse):
    """A JSONResponse whose content, if it holds lone surrogates or non-finite numbers, is cleaned."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except ValueError:  # UnicodeEncodeError, or NaN (allow_nan=False)
            return super().render(clean(content))
