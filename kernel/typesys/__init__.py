"""The plait type system: Python annotations to typed specs, checks and literals.

Three jobs, each cached per annotation, each in its own module:
- `specs`: `type_spec(tp)`, a JSON-able description that travels in specs,
  with `describe` and `is_assignable`;
- `checks`: `checker(tp)`, a fast function that validates (and lightly
  coerces) a value;
- `convert`: `to_literal` / `from_literal`, the JSON form of a value, used for
  defaults, remote inputs and cache keys, and `value_hash`.
`text` reads command-line words and container outputs into typed values.

Only the standard library is imported here; pandas and the file types are
recognised by name so that importing this package stays cheap.
"""

from __future__ import annotations

from ..errors import ValueTypeError
from ..model.keys import literal_hash
from .checks import Checker, checker
from .convert import from_literal, to_literal, value_hash
from .specs import (
    NoneType,
    describe,
    is_assignable,
    is_namedtuple,
    strip_annotated,
    type_spec,
    value_type_name,
)

__all__ = [
    "Checker",
    "NoneType",
    "ValueTypeError",
    "checker",
    "describe",
    "from_literal",
    "is_assignable",
    "is_namedtuple",
    "literal_hash",
    "strip_annotated",
    "to_literal",
    "type_spec",
    "value_hash",
    "value_type_name",
]
