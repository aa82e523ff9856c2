"""Custom types: a program's TypeTransformer is used to check, convert and hash its values."""

import json
from typing import Any, Optional

import plait
import pytest
from plait.extend import (
    Literal,
    LiteralType,
    PickledTypeWarning,
    Primitive,
    Scalar,
    SimpleType,
    TypeEngine,
    TypeTransformer,
)
from plait.run.engine import CACHE_HIT, execute
from plait.typesys import checker, from_literal, to_literal, type_spec, value_hash
from plait.typesys.literal_models import Literal as ModelLiteral


@pytest.fixture(scope="module")
def coords(resource: Any) -> Any:
    return resource("flyte_types/coordinates.py")


def test_flyte_import_paths_hold_the_same_classes() -> None:
    from plait.models.core.types import BlobType
    from plait.models.literals import Literal as FromModels
    from plait.models.types import LiteralType as TypeFromModels

    assert FromModels is Literal is ModelLiteral is plait.Literal
    assert TypeFromModels is LiteralType and BlobType is plait.BlobType


def test_a_workflow_of_transformed_values_runs(coords: Any) -> None:
    moved, text = coords.route_wf(name="summit")
    assert moved == coords.Coordinate(48.9, 10.9)
    assert text == "48.9N 10.9E"


def test_values_convert_through_the_transformer(coords: Any) -> None:
    point = coords.Coordinate(1.5, -2.0)
    lit = to_literal(coords.Coordinate, point)
    assert lit == {"__flyte_literal__": {"scalar": {"primitive": {"string_value": "1.5;-2.0"}}}}
    assert json.loads(json.dumps(lit)) == lit  # travels as JSON
    assert from_literal(coords.Coordinate, lit) == point
    assert from_literal(Optional[coords.Coordinate], lit) == point
    assert to_literal(list[coords.Coordinate], [point]) == [lit]
    assert type_spec(coords.Coordinate)["transformer"] == "coordinate"


def test_the_hash_is_of_the_literal_so_equal_values_share_it(coords: Any) -> None:
    a, b = coords.Coordinate(1.0, 2.0), coords.Coordinate(1.0, 2.0)
    assert a is not b
    assert value_hash(coords.Coordinate, a) == value_hash(coords.Coordinate, b)
    assert value_hash(coords.Coordinate, a) != value_hash(coords.Coordinate, coords.Coordinate(2.0, 1.0))


def test_a_cached_task_hits_on_an_equal_transformed_input(coords: Any) -> None:
    @plait.task(cache=True, cache_version="1")
    def far_north(where: coords.Coordinate) -> bool:  # type: ignore[name-defined]
        return where.lat > 50

    first = execute(far_north, {"where": coords.Coordinate(53.5, 9.9)})
    second = execute(far_north, {"where": coords.Coordinate(53.5, 9.9)})
    assert first.native() is True and second.native() is True
    assert [n.phase for n in second.nodes.values()] == [CACHE_HIT]


def test_a_value_of_another_type_fails_the_transformers_check(coords: Any) -> None:
    with pytest.raises(plait.TypeMismatchError, match=r"output `o0` is declared `Coordinate`.*`str`"):
        _returns("not a place", coords.Coordinate)()


def _returns(value: Any, tp: Any) -> Any:
    @plait.task
    def give() -> tp:  # type: ignore[valid-type]
        return value

    return give


def test_a_type_stored_as_a_file_round_trips_through_its_blob(coords: Any) -> None:
    survey = coords.Survey({"yes": 3, "no": 1})
    lit = to_literal(coords.Survey, survey)
    blob = lit["__flyte_literal__"]["scalar"]["blob"]
    assert blob["metadata"]["type"] == {"format": "json", "dimensionality": 0}
    assert from_literal(coords.Survey, lit).answers == {"yes": 3, "no": 1}


def test_registering_again_replaces_the_transformer() -> None:
    class Celsius(float):
        pass

    class AsText(TypeTransformer[Celsius]):
        def __init__(self, suffix: str) -> None:
            super().__init__(name=f"celsius{suffix}", t=Celsius)
            self.suffix = suffix

        def get_literal_type(self, t: Any) -> LiteralType:
            return LiteralType(simple=SimpleType.STRING)

        def to_literal(self, ctx: Any, python_val: Any, python_type: Any, expected: Any) -> Literal:
            return Literal(scalar=Scalar(primitive=Primitive(string_value=f"{float(python_val)}{self.suffix}")))

        def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> Any:
            return Celsius(lv.scalar.primitive.string_value.rstrip(self.suffix))

    TypeEngine.register(AsText("C"))
    assert to_literal(Celsius, Celsius(21.5))["__flyte_literal__"]["scalar"]["primitive"] == {"string_value": "21.5C"}
    TypeEngine.register(AsText("deg"))  # a notebook cell run again
    assert to_literal(Celsius, Celsius(21.5))["__flyte_literal__"]["scalar"]["primitive"] == {"string_value": "21.5deg"}
    assert TypeEngine.get_transformer(Celsius).name == "celsiusdeg"
    with pytest.raises(TypeError, match="expects a TypeTransformer instance"):
        TypeEngine.register(AsText)  # type: ignore[arg-type]


def test_a_type_without_a_transformer_is_pickled_with_flytes_warning(coords: Any) -> None:
    class Sketch:
        pass

    with pytest.warns(PickledTypeWarning, match=r"Unsupported Type .*Sketch.* found, Flyte will default to use "
                                                r"PickleFile as the transport"):
        spec = type_spec(Sketch)
    assert spec["kind"] == "pickle" and "transformer" not in spec
    assert coords.notebook_wf(pages=4) == 4
    assert checker(coords.Notebook)(coords.Notebook(2)).pages == 2
