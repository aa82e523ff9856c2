"""`plait.widgets`: a notebook parameter as the Panel widget a reader can change.

The parameter's value decides the widget, as papermill's parameters do their
type: a bool is a checkbox; an int or a float is a slider when it has a range
(`n = 10  # range: 1..100`) and a number input otherwise; a str is a text
input, or a select when it has choices (`region = "eu"  # choices: eu, us`, or
an `Enum` member); anything else that is a Python literal is a literal input.

    from plait.dashboards import widgets
    w = widgets.widget_for("n", 10, bounds=(1, 100))
    page = pn.bind(plot, n=w)

Panel is imported when a widget is made, not when this module is.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InputError


@dataclass(frozen=True)
class Parameter:
    """A notebook parameter: its name, default value and what its widget may offer."""

    name: str
    value: Any
    choices: tuple[Any, ...] | None = None
    bounds: tuple[float, float] | None = None
    step: float | None = None
    description: str = ""

    def to_spec(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value,
                "choices": list(self.choices) if self.choices is not None else None,
                "bounds": list(self.bounds) if self.bounds is not None else None,
                "step": self.step, "description": self.description}

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> Parameter:
        return cls(d["name"], d.get("value"),
                   tuple(d["choices"]) if d.get("choices") is not None else None,
                   (d["bounds"][0], d["bounds"][1]) if d.get("bounds") is not None else None,
                   d.get("step"), d.get("description") or "")


def kind_of(parameter: Parameter) -> str:
    """The widget a parameter gets, by name: checkbox, int_slider, float_input, select, text, ..."""
    value = parameter.value
    if parameter.choices is not None or isinstance(value, enum.Enum):
        return "select"
    if isinstance(value, bool):
        return "checkbox"
    if isinstance(value, int):
        return "int_slider" if parameter.bounds is not None else "int_input"
    if isinstance(value, float):
        return "float_slider" if parameter.bounds is not None else "float_input"
    if isinstance(value, str):
        return "text"
    return "literal"


def widget_for(name: str, value: Any, *, choices: Sequence[Any] | None = None,
               bounds: tuple[float, float] | None = None, step: float | None = None,
               description: str = "") -> Any:
    """The Panel widget for one parameter, labelled with its name and holding its value."""
    return widget_of(Parameter(name, value, tuple(choices) if choices is not None else None,
                               bounds, step, description))


def widget_of(parameter: Parameter) -> Any:
    import panel as pn

    name, value, kind = parameter.name, parameter.value, kind_of(parameter)
    # the label is `label` since Panel 1.5 (`name` before, deprecated after)
    common: dict[str, Any] = {"label" if "label" in pn.widgets.TextInput.param else "name": name}
    if parameter.description:
        common["description"] = parameter.description
    if kind == "select":
        options: Any = list(parameter.choices or ())
        if isinstance(value, enum.Enum) and parameter.choices is None:
            options = {m.name: m for m in type(value)}
        elif value not in options:
            raise InputError(f"parameter `{name}` is {value!r}, which is not one of its choices "
                             f"{options}; add it to the choices or change the value")
        return pn.widgets.Select(options=options, value=value, **common)
    if kind == "checkbox":
        return pn.widgets.Checkbox(value=value, **common)
    if kind in ("int_slider", "float_slider"):
        assert parameter.bounds is not None
        low, high = parameter.bounds
        if not low <= value <= high:
            raise InputError(f"parameter `{name}` is {value!r}, outside its range {low}..{high}; widen the "
                             "range or change the value")
        if kind == "int_slider":
            return pn.widgets.IntSlider(start=int(low), end=int(high), step=int(parameter.step or 1),
                                        value=value, **common)
        step = parameter.step or (float(high) - float(low)) / 100 or 0.1
        return pn.widgets.FloatSlider(start=float(low), end=float(high), step=step, value=value, **common)
    if kind == "int_input":
        return pn.widgets.IntInput(value=value, **common)
    if kind == "float_input":
        return pn.widgets.FloatInput(value=value, **common)
    if kind == "text":
        return pn.widgets.TextInput(value=value, **common)
    return pn.widgets.LiteralInput(value=value, type=type(value) if value is not None else None, **common)


def widgets_for(parameters: Sequence[Parameter | Mapping[str, Any]]) -> dict[str, Any]:
    """A widget per parameter, by name, in the notebook's order."""
    out: dict[str, Any] = {}
    for item in parameters:
        parameter = item if isinstance(item, Parameter) else Parameter.from_spec(item)
        out[parameter.name] = widget_of(parameter)
    return out
