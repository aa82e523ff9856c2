"""User-registered type transformers (`TypeEngine.register(MyTransformer())`), in Flyte's shape.

A program that brings its own type tells plait how to turn a value into a
`Literal` and back by registering a `TypeTransformer`. The registry here is
consulted by the rest of the type system: `checker` checks such values with
the transformer's `assert_type`, `to_literal`/`from_literal` (and so
`value_hash`, the value refs the backend's workers exchange, and cache keys)
go through its `to_literal`/`to_python_value`, stored as JSON. A class with
no transformer that plait does not know is pickled, as before, and plait says
so once per class with the warning Flyte gives.

Only the standard library is imported at module level; the literal classes
live in `literal_models`, and the context a transformer gets is the SDK's.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..errors import ValueTypeError
from .literal_models import Literal, LiteralType

T = TypeVar("T")

_TRANSFORMERS: dict[type, TypeTransformer[Any]] = {}
_lock = threading.Lock()

LITERAL_TAG = "__flyte_literal__"
"""The key of a transformer's literal in plait's JSON form: `{"__flyte_literal__": {...}}`."""


class TypeTransformerFailedError(ValueTypeError):
    """A transformer refused a value (Flyte's `TypeTransformerFailedError`)."""


class PickledTypeWarning(UserWarning):
    """A task's input or output type has no transformer: its values travel as pickles."""


class TypeTransformer(Generic[T]):
    """How one Python type becomes a `Literal` and back; subclass and `TypeEngine.register` it.

    `to_literal(ctx, python_val, python_type, expected)` and
    `to_python_value(ctx, lv, expected_python_type)` must be written;
    `get_literal_type(t)` says what the literal is (default: a generic
    binary one). `ctx` is the current Flyte context (its `file_access` can
    make local and remote paths and copy data between them).
    """

    def __init__(self, name: str, t: type[T], enable_type_assertions: bool = True) -> None:
        self._name = name
        self._t = t
        self._type_assertions_enabled = enable_type_assertions

    @property
    def name(self) -> str:
        return self._name

    @property
    def python_type(self) -> type[T]:
        return self._t

    @property
    def type_assertions_enabled(self) -> bool:
        return self._type_assertions_enabled

    def assert_type(self, t: type[T], v: T) -> None:
        if self._type_assertions_enabled and not isinstance(v, t):
            raise TypeTransformerFailedError(getattr(t, "__name__", str(t)), type(v).__name__)

    def get_literal_type(self, t: type[T]) -> LiteralType:
        raise NotImplementedError(f"transformer {self._name!r} does not say its literal type")

    def to_literal(self, ctx: Any, python_val: T, python_type: type[T], expected: LiteralType) -> Literal:
        raise NotImplementedError(f"transformer {self._name!r} has no to_literal")

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: type[T]) -> T | None:
        raise NotImplementedError(f"transformer {self._name!r} has no to_python_value")

    def guess_python_type(self, literal_type: LiteralType) -> type[T]:
        raise ValueError(f"transformer {self._name!r} cannot guess a Python type from {literal_type}")

    def to_html(self, ctx: Any, python_val: T, expected_python_type: type[T]) -> str:
        return str(python_val)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r}, python_type={self._t!r})"


class TypeEngine:
    """The registry of transformers, keyed by Python type (subclasses use their base's)."""

    @classmethod
    def register(cls, transformer: TypeTransformer[Any],
                 additional_types: list[type] | None = None) -> None:
        """Use `transformer` for its `python_type` (and `additional_types`) from now on.

        Registering a second transformer for the same type replaces the first,
        so re-running a notebook cell that defines and registers one works.
        """
        if not isinstance(transformer, TypeTransformer):
            raise TypeError(
                f"TypeEngine.register expects a TypeTransformer instance, got {type(transformer).__name__}; "
                "subclass plait.extend.TypeTransformer and register an instance of it"
            )
        with _lock:
            for tp in [transformer.python_type, *(additional_types or [])]:
                _TRANSFORMERS[tp] = transformer
            _clear_caches()

    @classmethod
    def get_transformer(cls, python_type: Any) -> TypeTransformer[Any]:
        found = find(python_type)
        if found is None:
            raise ValueError(f"no transformer registered for {python_type!r}; register one with "
                             "TypeEngine.register(MyTransformer())")
        return found

    @classmethod
    def to_literal_type(cls, python_type: Any) -> LiteralType:
        return cls.get_transformer(python_type).get_literal_type(python_type)

    @classmethod
    def to_literal(cls, ctx: Any, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        return cls.get_transformer(python_type).to_literal(ctx or context(), python_val, python_type, expected)

    @classmethod
    def to_python_value(cls, ctx: Any, lv: Literal, expected_python_type: Any) -> Any:
        return cls.get_transformer(expected_python_type).to_python_value(ctx or context(), lv,
                                                                        expected_python_type)


def registered() -> bool:
    """Whether the program registered any transformer (most never do: then nothing is looked up)."""
    return bool(_TRANSFORMERS)


def find(tp: Any) -> TypeTransformer[Any] | None:
    """The transformer registered for class `tp` or its nearest registered base, else None."""
    if not _TRANSFORMERS or not isinstance(tp, type):
        return None
    for klass in tp.__mro__:
        found = _TRANSFORMERS.get(klass)
        if found is not None:
            return found
    return None


def _clear_caches() -> None:
    """Checkers and type specs are cached per annotation: a new transformer must be seen."""
    from .checks import _checker_cached
    from .specs import _type_spec_cached

    _checker_cached.cache_clear()
    _type_spec_cached.cache_clear()


# ------------------------------------------------------------------ used by the type system


def check_with(transformer: TypeTransformer[Any], tp: type) -> Callable[[Any], Any]:
    """A checker that asks the transformer whether a value is of `tp`."""

    def check_transformed(value: Any) -> Any:
        try:
            transformer.assert_type(tp, value)
        except ValueTypeError:
            raise
        except (TypeError, ValueError, AssertionError) as exc:
            raise TypeTransformerFailedError(tp.__name__, f"{type(value).__name__} ({exc})") from None
        return value

    return check_transformed


def literal_of(transformer: TypeTransformer[Any], tp: type, value: Any) -> dict[str, Any]:
    """plait's JSON form of a value that `transformer` turns into a Literal."""
    expected = transformer.get_literal_type(tp)
    lit = transformer.to_literal(context(), value, tp, expected)
    if not isinstance(lit, Literal):
        raise TypeError(f"transformer {transformer.name!r} returned {type(lit).__name__} from to_literal; "
                        "return a plait.extend.Literal")
    return {LITERAL_TAG: lit.to_json()}


def value_of(transformer: TypeTransformer[Any], tp: type, raw: Any) -> Any:
    """The Python value of `tp` that `transformer` reads from plait's JSON form of a literal."""
    body = raw.get(LITERAL_TAG) if isinstance(raw, dict) else None
    if body is None:
        raise ValueTypeError(tp.__name__, f"{type(raw).__name__} (not a literal written by {transformer.name!r})")
    return transformer.to_python_value(context(), Literal.from_json(body), tp)


_NO_WARNING_MODULES = ("pandas", "pyarrow", "polars", "numpy", "torch", "sklearn", "tensorflow",
                       "plait", "builtins", "typing", "collections")


def warn_pickled(tp: Any) -> None:
    """Say once per class that values of `tp` are pickled (Flyte's warning, word for word)."""
    if not isinstance(tp, type) or tp.__module__.split(".")[0] in _NO_WARNING_MODULES:
        return
    if hasattr(tp, "model_fields"):  # a pydantic model: Flyte has a transformer for those
        return
    _warn_once(tp)


@functools.lru_cache(maxsize=1024)
def _warn_once(tp: type) -> None:
    warnings.warn(
        f"Unsupported Type {tp} found, Flyte will default to use PickleFile as the transport. "
        "Pickle can only be used to send objects between the exact same version of Python, "
        "and we strongly recommend to use python type that flyte support.",
        PickledTypeWarning,
        stacklevel=2,
    )


# ------------------------------------------------------------------ the context transformers get


def context() -> Any:
    """The Flyte context a transformer's `ctx` argument gets (`FlyteContextManager.current_context()`)."""
    # The SDK's layer, above this one: imported only when a value is converted.
    from ..sdk.flyte_context import FlyteContextManager

    return FlyteContextManager.current_context()
