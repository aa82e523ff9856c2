"""A program's own type with a TypeTransformer, registered the way Flyte programs do it.

Only the imports differ from a flytekit program (`plait` for `flytekit`).
"""

from __future__ import annotations

import json
import os

from plait import task, workflow
from plait.extend import TypeEngine, TypeTransformer
from plait.models.core.types import BlobType
from plait.models.literals import Blob, BlobMetadata, Literal, Primitive, Scalar
from plait.models.types import LiteralType, SimpleType


class Coordinate:
    def __init__(self, lat: float, lon: float) -> None:
        self.lat, self.lon = lat, lon

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Coordinate) and (self.lat, self.lon) == (other.lat, other.lon)

    def __repr__(self) -> str:
        return f"Coordinate({self.lat}, {self.lon})"


class CoordinateTransformer(TypeTransformer[Coordinate]):
    """A coordinate travels as the text `lat;lon`."""

    def __init__(self) -> None:
        super().__init__(name="coordinate", t=Coordinate)

    def get_literal_type(self, t: type[Coordinate]) -> LiteralType:
        return LiteralType(simple=SimpleType.STRING)

    def to_literal(self, ctx, python_val: Coordinate, python_type, expected: LiteralType) -> Literal:
        return Literal(scalar=Scalar(primitive=Primitive(string_value=f"{python_val.lat};{python_val.lon}")))

    def to_python_value(self, ctx, lv: Literal, expected_python_type) -> Coordinate:
        lat, lon = lv.scalar.primitive.string_value.split(";")
        return Coordinate(float(lat), float(lon))


TypeEngine.register(CoordinateTransformer())

PLACES = {"harbour": Coordinate(53.5, 9.9), "summit": Coordinate(47.4, 10.9)}


@task
def locate(name: str) -> Coordinate:
    return PLACES[name]


@task
def move_north(where: Coordinate, degrees: float) -> Coordinate:
    return Coordinate(where.lat + degrees, where.lon)


@task
def label(where: Coordinate) -> str:
    return f"{where.lat:.1f}N {where.lon:.1f}E"


@workflow
def route_wf(name: str = "harbour") -> tuple[Coordinate, str]:
    moved = move_north(where=locate(name=name), degrees=1.5)
    return moved, label(where=moved)


# ------------------------------------------------------------------ a type stored as a file


class Survey:
    """Answers kept in a JSON file; only the file travels."""

    def __init__(self, answers: dict[str, int]) -> None:
        self.answers = answers


class SurveyTransformer(TypeTransformer[Survey]):
    _TYPE_INFO = BlobType(format="json", dimensionality=BlobType.BlobDimensionality.SINGLE)

    def __init__(self) -> None:
        super().__init__(name="survey", t=Survey)

    def get_literal_type(self, t: type[Survey]) -> LiteralType:
        return LiteralType(blob=self._TYPE_INFO)

    def to_literal(self, ctx, python_val: Survey, python_type, expected: LiteralType) -> Literal:
        local = ctx.file_access.get_random_local_path("survey.json")
        os.makedirs(os.path.dirname(local), exist_ok=True)
        with open(local, "w") as fh:
            json.dump(python_val.answers, fh)
        remote = ctx.file_access.get_random_remote_path("survey.json")
        ctx.file_access.put_data(local, remote)
        return Literal(scalar=Scalar(blob=Blob(uri=remote, metadata=BlobMetadata(type=self._TYPE_INFO))))

    def to_python_value(self, ctx, lv: Literal, expected_python_type) -> Survey:
        local = ctx.file_access.get_random_local_path("survey.json")
        ctx.file_access.get_data(lv.scalar.blob.uri, local)
        with open(local) as fh:
            return Survey(json.load(fh))


TypeEngine.register(SurveyTransformer())


# ------------------------------------------------------------------ a type with no transformer


class Notebook:
    def __init__(self, pages: int) -> None:
        self.pages = pages


@task
def new_notebook(pages: int) -> Notebook:
    return Notebook(pages)


@task
def page_count(book: Notebook) -> int:
    return book.pages


@workflow
def notebook_wf(pages: int = 3) -> int:
    return page_count(book=new_notebook(pages=pages))
