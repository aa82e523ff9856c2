"""The shared model: everything that crosses a boundary, in the standard library only.

- `specs`: frozen views of entity specs and their parser;
- `vocab`: phases, entity kinds, comparison operators, media types;
- `literals`: JSON literals checked against type specs, without Python types;
- `keys`: entity versions, cache keys and literal hashes;
- `home`: the `$PLAIT_HOME` layout;
- `dag`: the DAG bundle built from specs.

The backend's contract with the SDK is this package (plus `plait.typesys`,
`plait.config` and the attempt runner in `plait.run.attempt`).
"""

from ..errors import SpecError as SpecError
from .specs import (
    JSON,
    BranchSpec,
    CaseSpec,
    InputSpec,
    InterfaceSpec,
    LaunchPlanSpec,
    MapSpec,
    NodeSpec,
    Spec,
    TaskSpec,
    TypeSpec,
    WorkflowSpec,
    parse_spec,
    spec_of,
)
from .vocab import EXECUTION_PHASES, NODE_PHASES, EntityKind

__all__ = [
    "EXECUTION_PHASES", "JSON", "NODE_PHASES", "BranchSpec", "CaseSpec", "EntityKind", "InputSpec",
    "InterfaceSpec", "LaunchPlanSpec", "MapSpec", "NodeSpec", "Spec", "SpecError", "TaskSpec", "TypeSpec", "WorkflowSpec",
    "parse_spec", "spec_of",
]
