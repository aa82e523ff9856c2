"""What a program extends plait with, where `flytekit.extend` has it: custom type transformers.

    class PointTransformer(TypeTransformer[Point]):
        def __init__(self):
            super().__init__(name="point", t=Point)

        def get_literal_type(self, t):
            return LiteralType(simple=SimpleType.STRING)

        def to_literal(self, ctx, python_val, python_type, expected):
            return Literal(scalar=Scalar(primitive=Primitive(string_value=f"{python_val.x},{python_val.y}")))

        def to_python_value(self, ctx, lv, expected_python_type):
            x, y = lv.scalar.primitive.string_value.split(",")
            return Point(float(x), float(y))

    TypeEngine.register(PointTransformer())

The literal classes are also importable where Flyte keeps them
(`plait.models.literals`, `plait.models.types`, `plait.models.core.types`).

Task classes (`PythonTask`, `PythonInstanceTask` with an `Interface`) and the Flyte
context (`FlyteContextManager`) are here too, as in `flytekit.extend`.
"""

from ..sdk.context import ExecutionParameters
from ..sdk.flyte_context import FileAccessProvider, FlyteContext, FlyteContextManager
from ..sdk.python_task import Interface, PythonInstanceTask, PythonTask
from ..sdk.tasks import TaskMetadata
from ..typesys.literal_models import (
    Binary,
    Blob,
    BlobMetadata,
    BlobType,
    DatasetColumn,
    Literal,
    LiteralCollection,
    LiteralMap,
    LiteralType,
    Primitive,
    Scalar,
    SimpleType,
    StructuredDatasetMetadata,
    StructuredDatasetType,
)
from ..typesys.transformers import (
    PickledTypeWarning,
    TypeEngine,
    TypeTransformer,
    TypeTransformerFailedError,
)

__all__ = [
    "TaskMetadata",
    "PythonTask",
    "PythonInstanceTask",
    "Interface",
    "FlyteContextManager",
    "FlyteContext",
    "FileAccessProvider",
    "ExecutionParameters",
    "Binary",
    "Blob",
    "BlobMetadata",
    "BlobType",
    "DatasetColumn",
    "Literal",
    "LiteralCollection",
    "LiteralMap",
    "LiteralType",
    "PickledTypeWarning",
    "Primitive",
    "Scalar",
    "SimpleType",
    "StructuredDatasetMetadata",
    "StructuredDatasetType",
    "TypeEngine",
    "TypeTransformer",
    "TypeTransformerFailedError",
]
