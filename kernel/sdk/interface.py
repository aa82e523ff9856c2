"""Typed interfaces of tasks and workflows: inputs with defaults, named outputs."""

from __future__ import annotations

import collections
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import CompileError
from ..typesys import describe, is_namedtuple, strip_annotated, to_literal, type_spec
from .batch_size import iterator_as_list


class _NoDefault:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<required>"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True)
class Param:
    name: str
    type: Any
    default: Any = NO_DEFAULT

    @property
    def required(self) -> bool:
        return self.default is NO_DEFAULT


@dataclass(frozen=True)
class Interface:
    """Inputs (ordered, with defaults) and outputs (ordered names -> types).

    `output_tuple` is the NamedTuple type when the function declared one, so
    local runs hand back the same structure the user wrote.
    """

    inputs: dict[str, Param]
    outputs: dict[str, Any]
    output_tuple: Any = None
    _input_types: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._input_types.update({n: p.type for n, p in self.inputs.items()})

    @property
    def input_types(self) -> dict[str, Any]:
        return self._input_types

    def to_spec(self) -> dict[str, Any]:
        inputs = {}
        for name, p in self.inputs.items():
            entry: dict[str, Any] = {"type": type_spec(p.type), "required": p.required}
            if not p.required:
                if hasattr(p.default, "is_artifact_query"):
                    entry["default"] = {"artifact_query": p.default.to_spec()}
                    inputs[name] = entry
                    continue
                try:
                    entry["default"] = to_literal(p.type, p.default)
                except TypeError:
                    entry["default"] = {"__unrepresentable__": describe(p.type)}
            inputs[name] = entry
        spec: dict[str, Any] = {
            "inputs": inputs,
            "outputs": {n: type_spec(t) for n, t in self.outputs.items()},
        }
        if self.output_tuple is not None:
            spec["output_tuple"] = self.output_tuple.__name__
        return spec

    def with_inputs(self, inputs: dict[str, Param]) -> Interface:
        return Interface(inputs, self.outputs, self.output_tuple)


def kwtypes(**kwargs: Any) -> collections.OrderedDict[str, Any]:
    """`kwtypes(a=int, b=str)`: an ordered name -> type mapping for task interfaces."""
    return collections.OrderedDict(kwargs)


def outputs_from_annotation(ret: Any, owner: str) -> tuple[dict[str, Any], Any]:
    """Output names and types from a return annotation (an `Iterator[T]` output is a `list[T]`)."""
    if ret is inspect.Signature.empty or ret is None or ret is type(None):
        return {}, None
    ret = iterator_as_list(ret)
    base, _ = strip_annotated(ret)
    if is_namedtuple(base):
        hints = typing.get_type_hints(base, include_extras=True)
        return {f: hints.get(f, Any) for f in base._fields}, base
    if isinstance(ret, tuple):  # `-> (float, float)`
        return {f"o{i}": t for i, t in enumerate(ret)}, None
    if typing.get_origin(base) is tuple:
        args = typing.get_args(base)
        if args and args[-1] is not Ellipsis:
            return {f"o{i}": t for i, t in enumerate(args)}, None
    return {"o0": ret}, None


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except TypeError:
        # `-> (float, int)` under `from __future__ import annotations` is a string
        # that typing refuses to evaluate; evaluate the annotations ourselves.
        namespace = getattr(fn, "__globals__", {})
        return {
            k: eval(v, namespace) if isinstance(v, str) else v  # noqa: S307 - the user's own annotation
            for k, v in getattr(fn, "__annotations__", {}).items()
        }


def interface_from_function(fn: Callable[..., Any], kind: str = "task") -> Interface:
    """Read a function's signature; every input must be annotated."""
    owner = f"{kind} `{getattr(fn, '__qualname__', fn)}`"
    try:
        hints = _type_hints(fn)
    except NameError as exc:
        raise CompileError(
            f"{owner}: an annotation names something that is not defined ({exc}); "
            "define or import the type before the function"
        ) from exc
    signature = inspect.signature(fn)
    inputs: dict[str, Param] = {}
    for name, p in signature.parameters.items():
        if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise CompileError(
                f"{owner}: `*{name}`/`**{name}` cannot be typed inputs; declare each input "
                "as a named, annotated parameter"
            )
        if name not in hints:
            raise CompileError(
                f"{owner}: input `{name}` has no type annotation; annotate it, "
                f"e.g. `{name}: int`"
            )
        default = NO_DEFAULT if p.default is inspect.Parameter.empty else p.default
        inputs[name] = Param(name, hints[name], default)
    ret = hints.get("return", inspect.Signature.empty)
    if isinstance(signature.return_annotation, tuple):
        ret = signature.return_annotation
    outputs, output_tuple = outputs_from_annotation(ret, owner)
    return Interface(inputs, outputs, output_tuple)


def interface_from_types(
    inputs: dict[str, Any] | None, outputs: dict[str, Any] | None
) -> Interface:
    return Interface(
        {n: Param(n, t) for n, t in (inputs or {}).items()},
        dict(outputs or {}),
    )
